extension ModelSummary {
    /// The architecture lines of `remamba info` for a Llama model.
    static func llamaLines(_ m: LlamaConfiguration) -> [String] {
        let rope: String
        switch m.rotary.scaling {
        case .none: rope = "default"
        case .linear(let f): rope = "linear × \(f)"
        case .dynamic(let f): rope = "dynamic (NTK) × \(f)"
        case let .llama3(f, low, high, original): rope = "llama3 × \(f) (low \(low), high \(high), original \(original))"
        }
        let cachePerToken = 2 * 4 * m.numberOfLayers * m.numberOfKeyValueHeads * m.headDimension
        return [
            "architecture: Llama (transformer, attention with a key/value cache)",
            "layers: \(m.numberOfLayers), hidden_size: \(m.hiddenSize), intermediate_size: \(m.intermediateSize), "
                + "heads: \(m.numberOfHeads) (key/value heads: \(m.numberOfKeyValueHeads)) × head_dim \(m.headDimension)",
            "vocabulary: \(m.vocabularySize), tied embeddings: \(m.tieWordEmbeddings), attention bias: \(m.attentionBias), mlp bias: \(m.mlpBias)",
            "rotary: theta \(m.rotary.theta), scaling \(rope); max_position_embeddings: \(m.maxPositionEmbeddings)",
            "key/value cache: \(bytes(cachePerToken)) per token (\(bytes(cachePerToken * m.maxPositionEmbeddings)) at \(m.maxPositionEmbeddings) tokens; grows with the sequence)",
        ]
    }
}
