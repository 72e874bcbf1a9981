import TensorCore

/// Llama sizes for benchmarks with random weights: the paper's transformer baseline, llama2-3b
/// (OpenLLaMA 3B's config.json), a ~125M model of the mamba-130m class (GPT-Neo/OPT-125m widths,
/// Llama-2's vocabulary and layout), and `llama-tiny` (hidden 64, 2 layers), the pair of Mamba's `tiny` (tests).
public enum LlamaShape: String, CaseIterable, Sendable {
    case tiny = "llama-tiny", m125 = "llama-125m", openLLaMA3b = "openllama-3b"

    public var configuration: LlamaConfiguration {
        switch self {
        case .tiny:
            LlamaConfiguration(vocabularySize: 32000, hiddenSize: 64, intermediateSize: 128, numberOfLayers: 2,
                               numberOfHeads: 4, maxPositionEmbeddings: 2048)
        case .m125:
            LlamaConfiguration(vocabularySize: 32000, hiddenSize: 768, intermediateSize: 2048, numberOfLayers: 12,
                               numberOfHeads: 12, maxPositionEmbeddings: 2048)
        case .openLLaMA3b:
            LlamaConfiguration(vocabularySize: 32000, hiddenSize: 3200, intermediateSize: 8640, numberOfLayers: 26,
                               numberOfHeads: 32, maxPositionEmbeddings: 2048)
        }
    }

    /// A model of this shape with seeded random weights, its matrices stored as `dtype`.
    public func randomModel(seed: UInt64 = 0, dtype: WeightType = .f32) -> LlamaModel {
        LlamaModel(weights: WeightMap.random(LlamaModel.expectedWeights(configuration), seed: seed, dtype: dtype), configuration: configuration)
    }
}
