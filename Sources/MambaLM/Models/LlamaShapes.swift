/// Llama sizes for benchmarks with random weights: the paper's transformer baseline, llama2-3b
/// (OpenLLaMA 3B's config.json), and a ~125M model of the mamba-130m class (GPT-Neo/OPT-125m widths,
/// Llama-2's vocabulary and layout).
public enum LlamaShape: String, CaseIterable, Sendable {
    case m125 = "llama-125m", openLLaMA3b = "openllama-3b"

    public var configuration: LlamaConfiguration {
        switch self {
        case .m125:
            LlamaConfiguration(vocabularySize: 32000, hiddenSize: 768, intermediateSize: 2048, numberOfLayers: 12,
                               numberOfHeads: 12, maxPositionEmbeddings: 2048)
        case .openLLaMA3b:
            LlamaConfiguration(vocabularySize: 32000, hiddenSize: 3200, intermediateSize: 8640, numberOfLayers: 26,
                               numberOfHeads: 32, maxPositionEmbeddings: 2048)
        }
    }

    /// A model of this shape with seeded random weights.
    public func randomModel(seed: UInt64 = 0) -> LlamaModel {
        LlamaModel(weights: WeightMap.random(LlamaModel.expectedWeights(configuration), seed: seed), configuration: configuration)
    }
}
