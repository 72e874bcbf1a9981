import Foundation
import TensorCore

/// The Mamba language model (Hugging Face `MambaForCausalLM`): embeddings → layers → norm_f → lm_head.
/// Immutable; all recurrent state lives in `ModelState`. Legend: L length, D d_model, V vocab.
public struct MambaModel: Backbone {
    public let configuration: MambaConfiguration
    let embeddings: Weight      // [V, D]
    let layers: [MambaLayer]
    let finalNorm: Tensor       // [D]
    let lmHead: Weight          // [V, D] (the embeddings when tied)
    /// Prompts are processed in pieces of this many tokens, so memory does not grow with their length.
    public var prefillChunk = 512

    public var vocabularySize: Int { configuration.vocabularySize }
    public var hiddenSize: Int { configuration.hiddenSize }
    public var numberOfLayers: Int { configuration.numberOfLayers }
    /// Θ_l of ReMamba has one value per channel of Δ.
    public var deltaOffsetSize: Int { configuration.innerSize }
    public var eosTokenID: Int? { configuration.eosTokenID }
    public var tiedEmbeddings: Bool { configuration.tieWordEmbeddings }
    public var embeddingTable: Weight { embeddings }

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
        embeddings = weights.weight("backbone.embeddings.weight")
        layers = (0..<c.numberOfLayers).map { MambaLayer(weights, prefix: "backbone.layers.\($0)", configuration: c) }
        finalNorm = weights["backbone.norm_f.weight"]
        lmHead = c.tieWordEmbeddings ? embeddings : weights.weight("lm_head.weight")
    }

    public init(directory: ModelDirectory) throws(LoadingError) {
        guard let c = directory.configuration.mamba else {
            throw .unsupported(path: directory.url.appendingPathComponent("config.json").path,
                               what: "this is not a Mamba (v1) configuration; load it with ModelLoader or Mamba2Model")
        }
        let weights = try WeightMap.load(from: directory, expected: Self.expectedWeights(c), sanitize: Self.sanitize(c))
        self.init(weights: weights, configuration: c)
    }

    public func makeState() -> ModelState { ModelState(layers: layers.map { $0.makeState() }) }

    /// Rows of the embedding matrix: [L] → [L, D].
    public func embed(_ ids: [Int]) -> Tensor { embeddingRows(embeddings, ids) }

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

    /// One position of each of B sequences: inputs [B, D], row b continuing `states[b]` → norm_f [B, D].
    public func hiddenStates(_ inputs: Tensor, states: inout [ModelState]) -> Tensor {
        let segments = (0..<inputs.rows).map { $0..<($0 + 1) }
        var h = inputs
        for (i, layer) in layers.enumerated() {
            h = LayerState.withLayer(i, of: &states) { layer.forward(h, states: &$0, segments: segments) }
        }
        for b in states.indices { states[b].position += 1 }
        return RMSNorm.forward(h, weight: finalNorm, epsilon: configuration.layerNormEpsilon)
    }

    /// hidden [L, D] → logits [L, V].
    public func logits(_ hidden: Tensor) -> Tensor { Linear.forward(hidden, weight: lmHead) }

    /// Number of parameters (tied embeddings counted once).
    public var parameterCount: Int {
        Self.expectedWeights(configuration).values.reduce(0) { $0 + $1.reduce(1, *) }
    }
}
