import MambaLM
import TensorCore

/// ReMamba's training loss (`ReMambaGradients`, both stages) with the compression drawn per example as the
/// official training does (`ReMambaRecipe`, from the trainer's generator, so a resume draws the same plans).
/// The prompt is the example's `promptLength` tokens; plain text (no prompt) has nothing to compress.
public struct ReMambaObjective: TrainingObjective {
    public let configuration: MambaConfiguration
    public var options: TrainingOptions
    /// The official backward of α (see `ReMambaGradients`).
    public var scaleImportanceGradient = true

    public init(configuration: MambaConfiguration, options: TrainingOptions = TrainingOptions()) {
        (self.configuration, self.options) = (configuration, options)
    }

    public func lossAndGradients(_ parameters: NamedTensors, example: TrainingExample,
                                 generator: inout SeededGenerator) -> (loss: Double, gradients: NamedTensors) {
        precondition(example.promptLength >= 1, "ReMambaObjective: an example without a prompt")
        let p = ReMambaParameters(weights: WeightMap(tensors: parameters), configuration: configuration)
        var recipe = ReMambaRecipe(seed: 0)
        recipe.generator = generator
        let plan = recipe.plan(promptLength: example.promptLength)
        generator = recipe.generator
        let (loss, gradients) = ReMambaGradients.lossAndGradients(p, ids: example.ids, plan: plan, targets: example.targets,
                                                                  scaleImportanceGradient: scaleImportanceGradient, options: options)
        return (loss, Dictionary(uniqueKeysWithValues: gradients.named))
    }
}
