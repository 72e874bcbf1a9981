import MambaLM
import TensorCore

/// Mamba-1 next-token cross-entropy (`MambaGradients`) over the parameters by checkpoint name.
public struct MambaObjective: TrainingObjective {
    public let configuration: MambaConfiguration
    public var options: TrainingOptions

    public init(configuration: MambaConfiguration, options: TrainingOptions = TrainingOptions()) {
        (self.configuration, self.options) = (configuration, options)
    }

    public func lossAndGradients(_ parameters: NamedTensors, example: TrainingExample,
                                 generator: inout SeededGenerator) -> (loss: Double, gradients: NamedTensors) {
        let p = MambaParameters(weights: WeightMap(tensors: parameters), configuration: configuration)
        let (loss, gradients) = MambaGradients.lossAndGradients(p, ids: example.ids, targets: example.targets, options: options)
        return (loss, Dictionary(uniqueKeysWithValues: gradients.named))
    }
}

extension MambaParameters {
    /// Every tensor by checkpoint name (the trainer's view).
    public var namedTensors: NamedTensors { Dictionary(uniqueKeysWithValues: named) }
}
