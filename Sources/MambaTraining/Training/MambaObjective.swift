import MambaLM
import TensorCore

/// Next-token cross-entropy of a plain model (`TrainableModel.lossAndGradients`) over the parameters by
/// checkpoint name: `MambaObjective` for Mamba-1, `Mamba2Objective` for Mamba-2, `LlamaObjective` for Llama.
public struct BackboneObjective<Base: TrainableModel>: TrainingObjective {
    public let configuration: Base.Configuration
    public var options: TrainingOptions

    public init(configuration: Base.Configuration, options: TrainingOptions = TrainingOptions()) {
        (self.configuration, self.options) = (configuration, options)
    }

    public func lossAndGradients(_ parameters: NamedTensors, example: TrainingExample,
                                 generator: inout SeededGenerator) -> (loss: Double, gradients: NamedTensors) {
        let w = WeightMap(tensors: parameters)
        var p = Base(weights: w, configuration: configuration)
        p.attachAdapters(from: w, options: options.adapters, passSeed: options.passSeed(&generator))
        let (loss, gradients) = p.lossAndGradients(ids: example.ids, targets: example.targets, options: options)
        return (loss, gradients.namedTensors)
    }
}

public typealias MambaObjective = BackboneObjective<MambaParameters>
public typealias Mamba2Objective = BackboneObjective<Mamba2Parameters>
public typealias LlamaObjective = BackboneObjective<LlamaParameters>
