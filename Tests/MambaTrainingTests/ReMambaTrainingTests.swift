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
}
