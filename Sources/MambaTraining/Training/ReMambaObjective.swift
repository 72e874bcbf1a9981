import MambaLM
import TensorCore

/// ReMamba's training loss over a base of either family (`ReMambaGradients`, both stages) with the compression
/// drawn per example as the official training does (`ReMambaRecipe`, from the trainer's generator, so a resume
/// draws the same plans). The prompt is the example's `promptLength` tokens. Plain text (no prompt) has nothing
/// to compress: it gets the base model's next-token loss (Query, Key, Value and Θ get no gradient), so text can
/// be mixed into a ReMamba fine-tuning to keep the model's language (the official runs use instruction data only).
public struct ReMambaObjective<Base: TrainableBackbone>: TrainingObjective {
    public let configuration: Base.Configuration
    public var options: TrainingOptions
    /// The α-gradient scaling (see `ReMambaGradients`); nil: the family's official choice (Mamba-1 on, Mamba-2 off).
    public var scaleImportanceGradient: Bool?

    public init(configuration: Base.Configuration, options: TrainingOptions = TrainingOptions()) {
        (self.configuration, self.options) = (configuration, options)
    }

    public func lossAndGradients(_ parameters: NamedTensors, example: TrainingExample,
                                 generator: inout SeededGenerator) -> (loss: Double, gradients: NamedTensors) {
        let w = WeightMap(tensors: parameters)
        var p = ReMambaParameters<Base>(weights: w, configuration: configuration)
        p.base.attachAdapters(from: w, options: options.adapters, passSeed: options.passSeed(&generator))
        guard example.promptLength > 0 else {
            var g = p.zeros()
            let loss: Double
            (loss, g.base) = MambaGradients.lossAndGradients(of: p.base, ids: example.ids, targets: example.targets, options: options)
            return (loss, Dictionary(uniqueKeysWithValues: g.named))
        }
        var recipe = ReMambaRecipe(seed: 0)
        recipe.generator = generator
        let plan = recipe.plan(promptLength: example.promptLength)
        generator = recipe.generator
        let (loss, gradients) = ReMambaGradients.lossAndGradients(p, ids: example.ids, plan: plan, targets: example.targets,
                                                                  scaleImportanceGradient: scaleImportanceGradient, options: options)
        return (loss, Dictionary(uniqueKeysWithValues: gradients.named))
    }
}
