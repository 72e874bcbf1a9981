import Foundation
import TensorCore

/// The Mamba language model (Hugging Face `MambaForCausalLM`): embeddings → layers → norm_f → lm_head.
/// Immutable; all recurrent state lives in `ModelState`. Legend: L length, D d_model, V vocab.
public struct MambaModel: Backbone {
    public let configuration: MambaConfiguration
    let embeddings: Tensor      // [V, D]
    let layers: [MambaLayer]
    let finalNorm: Tensor       // [D]
    let lmHead: Tensor          // [V, D] (the embeddings when tied)
    /// Prompts are processed in pieces of this many tokens, so memory does not grow with their length.
    public var prefillChunk = 512

    public var vocabularySize: Int { configuration.vocabularySize }
    public var hiddenSize: Int { configuration.hiddenSize }
    public var numberOfLayers: Int { configuration.numberOfLayers }
    /// Θ_l of ReMamba has one value per channel of Δ.
    public var deltaOffsetSize: Int { configuration.innerSize }
    public var eosTokenID: Int? { configuration.eosTokenID }

    /// Names and shapes of every tensor of the checkpoint, as Hugging Face names them.
    public static func expectedWeights(_ c: MambaConfiguration) -> [String: [Int]] {
        var w: [String: [Int]] = ["backbone.embeddings.weight": [c.vocabularySize, c.hiddenSize],
                                  "backbone.norm_f.weight": [c.hiddenSize]]
        if !c.tieWordEmbeddings { w["lm_head.weight"] = [c.vocabularySize, c.hiddenSize] }
        for i in 0..<c.numberOfLayers { w.merge(MambaLayer.expectedWeights(c, prefix: "backbone.layers.\(i)")) { a, _ in a } }
        return w
    }

    /// Checkpoint name → model name: the original state-spaces spelling of the embeddings, and a
    /// tied lm_head (which some exporters write anyway) dropped, as transformers does.
    public static func sanitize(_ c: MambaConfiguration) -> (String) -> String? {
        { name in
            if name == "backbone.embedding.weight" { return "backbone.embeddings.weight" }
            if name == "lm_head.weight" && c.tieWordEmbeddings { return nil }
            return name
        }
    }

    public init(weights: WeightMap, configuration c: MambaConfiguration) {
        configuration = c
        embeddings = weights["backbone.embeddings.weight"]
        layers = (0..<c.numberOfLayers).map { MambaLayer(weights, prefix: "backbone.layers.\($0)", configuration: c) }
        finalNorm = weights["backbone.norm_f.weight"]
        lmHead = c.tieWordEmbeddings ? embeddings : weights["lm_head.weight"]
    }

    public init(directory: ModelDirectory) throws(LoadingError) {
        let c = directory.configuration.mamba
        let weights = try WeightMap.load(from: directory, expected: Self.expectedWeights(c), sanitize: Self.sanitize(c))
        self.init(weights: weights, configuration: c)
    }

    public func makeState() -> ModelState { ModelState(layers: layers.map { $0.makeState() }) }

    public func checkTokens(_ ids: [Int]) throws(ModelError) {
        for (position, id) in ids.enumerated() where id < 0 || id >= vocabularySize {
            throw .tokenOutOfRange(id: id, position: position, vocabularySize: vocabularySize)
        }
    }

    /// Rows of the embedding matrix: [L] → [L, D].
    public func embed(_ ids: [Int]) -> Tensor {
        let d = configuration.hiddenSize
        var out = [Float]()
        out.reserveCapacity(ids.count * d)
        for id in ids { out.append(contentsOf: embeddings.row(id)) }
        return Tensor(shape: [ids.count, d], data: out)
    }

    /// Runs every layer over `inputs` [L, D] from `state` and applies norm_f: the last layer's
    /// normed hidden states [L, D]. `adaptation` (ReMamba stage 2) is applied in every layer.
    public func hiddenStates(_ inputs: Tensor, state: inout ModelState, adaptation: SelectiveAdaptation? = nil) -> Tensor {
        var h = inputs
        let start = state.position
        for (i, layer) in layers.enumerated() {
            let adapt = adaptation.map { a in { (delta: inout Tensor) in a.apply(to: &delta, layer: i, firstPosition: start) } }
            h = layer.forward(h, state: &state.layers[i], adapt: adapt)
        }
        state.position += inputs.rows
        return RMSNorm.forward(h, weight: finalNorm, epsilon: configuration.layerNormEpsilon)
    }

    /// hidden [L, D] → logits [L, V].
    public func logits(_ hidden: Tensor) -> Tensor { Linear.forward(hidden, weight: lmHead) }

    /// Logits [L, V] of every position of `ids`, from a fresh state (what `MambaForCausalLM(ids).logits` gives).
    public func forward(_ ids: [Int]) throws(ModelError) -> Tensor {
        try checkTokens(ids)
        var state = makeState()
        return forward(ids, state: &state)
    }

    /// Logits [L, V] of every position, continuing from `state`, computed chunk by chunk.
    public func forward(_ ids: [Int], state: inout ModelState) -> Tensor {
        var parts: [Tensor] = []
        var begin = 0
        while begin < ids.count {
            let end = min(begin + prefillChunk, ids.count)
            parts.append(logits(hiddenStates(embed(Array(ids[begin..<end])), state: &state)))
            begin = end
        }
        return Tensor.concatenateRows(parts)
    }

    public func prefill(_ ids: [Int], state: inout ModelState) throws -> Tensor {
        if ids.isEmpty { throw ModelError.emptyPrompt }
        try checkTokens(ids)
        let last = hiddenStatesChunked(embed(ids), state: &state, keep: .last)
        return logits(last).reshaped([vocabularySize])
    }

    public func step(_ id: Int, state: inout ModelState) -> Tensor {
        logits(hiddenStates(embed([id]), state: &state)).reshaped([vocabularySize])
    }

    /// Number of parameters (tied embeddings counted once).
    public var parameterCount: Int {
        Self.expectedWeights(configuration).values.reduce(0) { $0 + $1.reduce(1, *) }
    }
}
