import XCTest
import MambaLM
@testable import MambaTraining
import TensorCore

/// ReMamba through the trainer: LoRA on a plain Mamba base with ReMamba's modules added as the official
/// fine-tuning does, trained a few steps, written as a PEFT adapter that the loader merges into a ReMamba model.
final class ReMambaTrainingTests: XCTestCase {
    static let base = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/lora-training/base_untied")

    func testReMambaLoRARunWritesAnAdapterTheLoaderUses() throws {
        let directory = try ModelDirectory(Self.base)
        let task = try TrainingTask(directory: directory, lora: LoRASettings(rank: 4), remamba: true, merge: false,
                                    options: TrainingOptions(), seed: 0)
        XCTAssertNotNil(task.initialParameters["base_model.model.backbone.Q_proj.0.weight"], "Query trained whole")
        XCTAssertNotNil(task.initialParameters["base_model.model.backbone.layers.1.mixer.ret_bias.param"], "Θ trained whole")
        var generator = SeededGenerator(seed: 3)
        let examples = (0..<4).map { _ in
            InstructionExamples.example(prompt: (0..<40).map { _ in Int(generator.next() % 1000) }, response: [5, 6, 7],
                                        endOfSequence: 0, maxLength: 64)
        }
        var settings = TrainingSettings(totalSteps: 4)
        settings.learningRate = 1e-2
        settings.accumulation = 2
        let out = TinyTraining.scratchDirectory("remamba-lora")
        defer { try? FileManager.default.removeItem(at: out) }
        var run = TrainingRun(trainer: Trainer(objective: task.objective, examples: examples, settings: settings,
                                               state: TrainingState(parameters: task.initialParameters, seed: 0)),
                              directory: out, saveEvery: nil)
        try run.run { try task.export($0, out) }
        let losses = run.trainer.state.history.map(\.loss)
        print("ReMamba LoRA losses: \(losses)")
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertLessThan(losses.last!, losses.first!)
        let adapter = try PEFTAdapter(out)
        XCTAssertEqual(Set(adapter.configuration.modulesToSave), ["dt_proj", "Q_proj", "K_proj", "V_proj", "ret_bias"])
        let model = try ModelLoader.load(directory, compression: .paperDefault, adapter: adapter)
        XCTAssertTrue(model is ReMambaModel<MambaModel>, "the adapter's Q/K/V make the plain base a ReMamba model")
    }

    /// Plain text mixed into a ReMamba run has nothing to compress: the base model's next-token loss and
    /// gradients, and none for Query, Key, Value and Θ.
    func testPlainTextExamplesGetTheBaseLoss() throws {
        let directory = try ModelDirectory(Self.base)
        let task = try TrainingTask(directory: directory, lora: nil, remamba: true, merge: false, options: TrainingOptions(), seed: 0)
        let ids = (0..<24).map { ($0 * 37 + 11) % 1000 }
        let example = TrainingExample(ids: ids, targets: MambaGradients.nextTokenTargets(ids))
        var generator = SeededGenerator(seed: 1)
        let (loss, g) = task.objective.lossAndGradients(task.initialParameters, example: example, generator: &generator)
        let base = try MambaParameters(directory: directory)
        let (plainLoss, plain) = MambaGradients.lossAndGradients(base, ids: ids)
        XCTAssertEqual(loss, plainLoss)
        for (name, tensor) in plain.named { XCTAssertEqual(g[name], tensor, name) }
        let reMambaNames = g.keys.filter { $0.contains("_proj.") && $0.hasPrefix("backbone.") && !$0.hasPrefix("backbone.layers") || $0.hasSuffix("ret_bias.param") }
        XCTAssertEqual(reMambaNames.count, 12 + 2, "Q/K/V (4 tensors each) and Θ of 2 layers")
        for name in reMambaNames { XCTAssertTrue(g[name]!.data.allSatisfy { $0 == 0 }, name) }
    }
}
