import XCTest
import MambaLM
@testable import MambaTraining
import TensorCore

/// ReMamba2 through the trainer: a plain tiny Mamba2 with ReMamba's modules added as the official fine-tuning
/// does learns a repeated batch; LoRA on the official ReMamba2 checkpoint trains Q/K/V, ret_bias (one per
/// head) and dt_bias whole.
final class ReMamba2TrainingTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// Prompt 30 tokens: the official recipe compresses ⌈0.1·30⌉ = 3 of them into K = 1 (the plan is the same
    /// every step, so the losses of the repeated batch are comparable).
    static func example(vocabulary: Int) -> TrainingExample {
        InstructionExamples.example(prompt: (0..<30).map { ($0 * 37 + 5) % vocabulary }, response: [7, 8, 9, 10],
                                    endOfSequence: 0, maxLength: 64)
    }

    func testOneStepLowersTheLossOfARepeatedBatch() throws {
        let task = try TrainingTask(directory: ModelDirectory(Self.fixtures.appendingPathComponent("mamba2/tiny_a")), lora: nil,
                                    remamba: true, merge: false, options: TrainingOptions(), seed: 0)
        XCTAssertEqual(task.initialParameters["backbone.layers.0.mixer.ret_bias.param"]?.shape, [8], "Θ_l: one per head")
        var settings = TrainingSettings(totalSteps: 3)
        settings.learningRate = 1e-3
        settings.accumulation = 1
        var trainer = Trainer(objective: task.objective, examples: [Self.example(vocabulary: task.vocabularySize)],
                              settings: settings, state: TrainingState(parameters: task.initialParameters, seed: 0))
        var losses: [Double] = []
        while !trainer.isFinished { losses.append(trainer.step().loss) }
        print("ReMamba2 full training on one repeated example: losses \(losses)")
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertLessThan(losses[1], losses[0])
        XCTAssertLessThan(losses[2], losses[1])
    }

    func testLoRAOnTheOfficialReMamba2Checkpoint() throws {
        let directory = try ModelDirectory(Self.fixtures.appendingPathComponent("remamba-official/models/remamba2_a"))
        let task = try TrainingTask(directory: directory, lora: LoRASettings(rank: 2), remamba: true, merge: false,
                                    options: TrainingOptions(), seed: 0)
        for name in ["backbone.Q_proj.0.weight", "backbone.layers.1.mixer.ret_bias.param", "backbone.layers.0.mixer.dt_bias"] {
            XCTAssertNotNil(task.initialParameters["base_model.model." + name], "\(name) trained whole")
        }
        var generator = SeededGenerator(seed: 1)
        let (loss, gradients) = task.objective.lossAndGradients(task.initialParameters, example: Self.example(vocabulary: 256),
                                                                generator: &generator)
        XCTAssertTrue(loss.isFinite)
        XCTAssertEqual(Set(gradients.keys), Set(task.initialParameters.keys))
        XCTAssert(gradients["base_model.model.backbone.layers.1.mixer.ret_bias.param"]!.data.contains { $0 != 0 })
    }
}
