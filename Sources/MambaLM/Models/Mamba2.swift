import Foundation
import TensorCore

/// The Mamba-2 language model (Hugging Face `Mamba2ForCausalLM`; mamba_ssm's `MambaLMHeadModel` with
/// `ssm_cfg.layer = "Mamba2"`): embeddings → Mamba2 layers → norm_f → lm_head. Immutable; all recurrent
/// state lives in `ModelState` (per layer conv [E + 2·G·N, k], ssm [H·P, N], see `Mamba2Layer`).
/// Generation (prefill, step, forward) comes from `Backbone`. Legend: L length, D d_model, V vocab, H heads.
public struct Mamba2Model: Backbone {
    public let configuration: Mamba2Configuration
    let embeddings: Weight      // [V, D]
    let layers: [Mamba2Layer]
    let finalNorm: Tensor       // [D]
    let lmHead: Weight          // [V, D] (the embeddings when tied)
    /// Prompts are processed in pieces of this many tokens, so memory does not grow with their length.
    /// Within a piece the scan runs in chunks of `chunk_size`.
    public var prefillChunk = 512
    /// `.sequential` runs the recurrence for prompts too: the slow twin of the chunked SSD.
    public var scan: Mamba2Layer.Scan = .chunked

    public var vocabularySize: Int { configuration.vocabularySize }
    public var hiddenSize: Int { configuration.hiddenSize }
    public var numberOfLayers: Int { configuration.numberOfLayers }
    /// Θ_l of ReMamba2 has one value per head (dt is [L, H]).
    public var deltaOffsetSize: Int { configuration.numberOfHeads }
    public var eosTokenID: Int? { configuration.eosTokenID }
    public var tiedEmbeddings: Bool { configuration.tieWordEmbeddings }
    public var embeddingTable: Weight { embeddings }

    /// Names and shapes of every tensor of the checkpoint, as Hugging Face names them.
    public static func expectedWeights(_ c: Mamba2Configuration) -> [String: [Int]] {
        var w: [String: [Int]] = ["backbone.embeddings.weight": [c.vocabularySize, c.hiddenSize],
                                  "backbone.norm_f.weight": [c.hiddenSize]]
        if !c.tieWordEmbeddings { w["lm_head.weight"] = [c.vocabularySize, c.hiddenSize] }
        for i in 0..<c.numberOfLayers { w.merge(Mamba2Layer.expectedWeights(c, prefix: "backbone.layers.\(i)")) { a, _ in a } }
        return w
    }

    /// Checkpoint name → model name: the original state-spaces spelling of the embeddings, and a tied
    /// lm_head (which some exporters write anyway) dropped, as transformers does. The same as Mamba's.
    public static func sanitize(_ c: Mamba2Configuration) -> (String) -> String? {
        { name in
            if name == "backbone.embedding.weight" { return "backbone.embeddings.weight" }
            if name == "lm_head.weight" && c.tieWordEmbeddings { return nil }
            return name
        }
    }

    public init(weights: WeightMap, configuration c: Mamba2Configuration) {
        configuration = c
        embeddings = weights.weight("backbone.embeddings.weight")
        layers = (0..<c.numberOfLayers).map { Mamba2Layer(weights, prefix: "backbone.layers.\($0)", configuration: c) }
        finalNorm = weights["backbone.norm_f.weight"]
        lmHead = c.tieWordEmbeddings ? embeddings : weights.weight("lm_head.weight")
    }

    public init(directory: ModelDirectory) throws(LoadingError) {
        guard let c = directory.configuration.mamba2 else {
            throw .unsupported(path: directory.url.appendingPathComponent("config.json").path,
                               what: "this is not a Mamba2 configuration; load it with ModelLoader or MambaModel")
        }
        let weights = try WeightMap.load(from: directory, expected: Self.expectedWeights(c), sanitize: Self.sanitize(c))
        self.init(weights: weights, configuration: c)
    }

    public func makeState() -> ModelState { ModelState(layers: layers.map { $0.makeState() }) }

    /// Rows of the embedding matrix: [L] → [L, D].
    public func embed(_ ids: [Int]) -> Tensor { embeddingRows(embeddings, ids) }

    /// Runs every layer over `inputs` [L, D] from `state` and applies norm_f: the last layer's normed
    /// hidden states [L, D]. `adaptation` (ReMamba2 stage 2) rewrites dt [L, H] in every layer.
    public func hiddenStates(_ inputs: Tensor, state: inout ModelState, adaptation: SelectiveAdaptation? = nil) -> Tensor {
        var h = inputs
        let start = state.position
        for (i, layer) in layers.enumerated() {
            let adapt = adaptation.map { a in { (dt: inout Tensor) in a.apply(to: &dt, layer: i, firstPosition: start) } }
            h = layer.forward(h, state: &state.layers[i], scan: scan, adapt: adapt)
        }
        state.position += inputs.rows
        return RMSNorm.forward(h, weight: finalNorm, epsilon: configuration.layerNormEpsilon)
    }

    /// One position of each of B sequences: inputs [B, D], row b continuing `states[b]` → norm_f [B, D].
    public func hiddenStates(_ inputs: Tensor, states: inout [ModelState]) -> Tensor {
        let segments = (0..<inputs.rows).map { $0..<($0 + 1) }
        var h = inputs
        for (i, layer) in layers.enumerated() {
            h = LayerState.withLayer(i, of: &states) { layer.forward(h, states: &$0, segments: segments, scan: scan) }
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
