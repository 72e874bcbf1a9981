import TensorCore

extension ModelInitialization {
    /// Fresh Llama weights as transformers' `LlamaPreTrainedModel._init_weights`: every matrix (and
    /// the embeddings) N(0, 0.02²), biases 0, RMSNorm weights 1.
    static func llamaWeights(_ c: LlamaConfiguration, seed: UInt64) -> WeightMap {
        var generator = SeededGenerator(seed: seed)
        var tensors: [String: Tensor] = [:]
        for (name, shape) in LlamaModel.expectedWeights(c).sorted(by: { $0.key < $1.key }) {
            tensors[name] = name.hasSuffix("norm.weight") ? Tensor(shape: shape, repeating: 1)
                : name.hasSuffix(".bias") ? Tensor(zeros: shape)
                : Tensor.randomNormal(shape, std: 0.02, generator: &generator)
        }
        return WeightMap(tensors: tensors)
    }
}
