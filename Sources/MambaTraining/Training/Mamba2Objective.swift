import MambaLM
import TensorCore

/// Mamba-2 next-token cross-entropy (`Mamba2Gradients`) over the parameters by checkpoint name.
public struct Mamba2Objective: TrainingObjective {
    public let configuration: Mamba2Configuration
    public var options: TrainingOptions

    public init(configuration: Mamba2Configuration, options: TrainingOptions = TrainingOptions()) {
        (self.configuration, self.options) = (configuration, options)
    }

    public func lossAndGradients(_ parameters: NamedTensors, example: TrainingExample,
                                 generator: inout SeededGenerator) -> (loss: Double, gradients: NamedTensors) {
        let p = Mamba2Parameters(weights: WeightMap(tensors: parameters), configuration: configuration)
        let (loss, gradients) = Mamba2Gradients.lossAndGradients(p, ids: example.ids, targets: example.targets, options: options)
        return (loss, Dictionary(uniqueKeysWithValues: gradients.named))
    }
}
