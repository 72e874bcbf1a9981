import XCTest
import MambaLM
@testable import MambaTraining
import TensorCore
import TestSupport

/// Mamba-2 through the trainer (the tiny tied fixture): full training lowers the loss; LoRA trains dt_bias
/// whole and its factors' gradients agree with central differences through the untied effective model.
final class Mamba2TrainingTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/mamba2/tiny_a")

    static func examples(vocabulary: Int) -> [TrainingExample] {
        let cycle = (0..<10).map { 3 + $0 * 7 % vocabulary }
        return TextWindows.examples(tokens: (0..<6).flatMap { _ in cycle }, maxLength: 20)
    }

    func testFullTrainingLowersTheLoss() throws {
        let task = try TrainingTask(directory: ModelDirectory(Self.directory), lora: nil, remamba: false, merge: false,
                                    options: TrainingOptions(), seed: 0)
        var settings = TrainingSettings(totalSteps: 8)
        settings.learningRate = 1e-2
        settings.accumulation = 1
        var trainer = Trainer(objective: task.objective, examples: Self.examples(vocabulary: task.vocabularySize), settings: settings,
                              state: TrainingState(parameters: task.initialParameters, seed: 0))
        var losses: [Double] = []
        while !trainer.isFinished { losses.append(trainer.step().loss) }
        print("Mamba2 full training losses: \(losses.map { String(format: "%.3f", $0) })")
        XCTAssertLessThan(losses.last!, losses.first! * 0.8)
    }

    func testLoRAGradientsMatchFiniteDifferences() throws {
        let task = try TrainingTask(directory: ModelDirectory(Self.directory), lora: LoRASettings(rank: 2), remamba: false,
                                    merge: false, options: TrainingOptions(), seed: 0)
        XCTAssertNotNil(task.initialParameters["base_model.model.backbone.layers.0.mixer.dt_bias"], "dt_bias is trained whole")
        var generator = SeededGenerator(seed: 2)
        var p = task.initialParameters
        for name in p.keys.sorted() where name.contains("lora_") {
            p[name] = Tensor.randomNormal(p[name]!.shape, std: 0.1, generator: &generator)
        }
        let example = Self.examples(vocabulary: task.vocabularySize)[0]
        let (_, g) = task.objective.lossAndGradients(p, example: example, generator: &generator)
        let worst = GradientCheck.worstDirectionalDifference(task.objective, p, gradients: g, example: example, directions: &generator)
        print("Mamba2 LoRA gradients vs central differences: worst relative |Δ| = \(worst) (tolerance 1e-3)")
        XCTAssertLessThan(worst, 1e-3)
    }
}
