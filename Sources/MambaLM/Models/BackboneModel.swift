import Foundation
import TensorCore

/// A Mamba-family language model over its layer type: embeddings → layers → norm_f → lm_head, written once
/// for both families (`MambaModel` = Hugging Face `MambaForCausalLM`; `Mamba2Model` = `Mamba2ForCausalLM`,
/// mamba_ssm's `MambaLMHeadModel` with `ssm_cfg.layer = "Mamba2"`). Immutable; all recurrent state lives in
/// `ModelState` (one `LayerState` per layer, see the layer types). Generation (prefill, step, forward) comes
/// from `Backbone`. Legend: L length, D d_model, V vocab.
public struct BackboneModel<Layer: BackboneLayer>: Backbone {
    public let configuration: Layer.Configuration
    let embeddings: Weight      // [V, D]
    let layers: [Layer]
    let finalNorm: Tensor       // [D]
    let lmHead: Weight          // [V, D] (the embeddings when tied)
    /// Prompts are processed in pieces of this many tokens, so memory does not grow with their length.
    public var prefillChunk = 512
    /// How the layers run a prompt (Mamba2: chunked SSD or its sequential slow twin; see `Mamba2Model.scan`).
    public var options = Layer.Options()

    public var vocabularySize: Int { configuration.vocabularySize }
    public var hiddenSize: Int { configuration.hiddenSize }
    public var numberOfLayers: Int { configuration.numberOfLayers }
    /// Θ_l of ReMamba: one value per channel of Δ (Mamba) or per head (Mamba2).
    public var deltaOffsetSize: Int { Layer.deltaOffsetSize(configuration) }
    public var eosTokenID: Int? { configuration.eosTokenID }
    public var tiedEmbeddings: Bool { configuration.tieWordEmbeddings }
    public var embeddingTable: Weight { embeddings }

    /// Names and shapes of every tensor of the checkpoint, as Hugging Face names them.
    public static func expectedWeights(_ c: Layer.Configuration) -> [String: [Int]] {
        var w = BackboneTensors.expectedWeights(c, prefix: "")
        for i in 0..<c.numberOfLayers { w.merge(Layer.Tensors.expectedWeights(c, prefix: BackboneTensors.layer(i))) { a, _ in a } }
        return w
    }

    /// Checkpoint name → model name: the original state-spaces spelling of the embeddings, and a
    /// tied lm_head (which some exporters write anyway) dropped, as transformers does.
    public static func sanitize(_ c: Layer.Configuration) -> (String) -> String? {
        { name in
            if name == BackboneTensors.stateSpacesEmbeddings { return BackboneTensors.embeddings.rawValue }
            if name == BackboneTensors.lmHead.rawValue && c.tieWordEmbeddings { return nil }
            return name
        }
    }

    public init(weights: WeightMap, configuration c: Layer.Configuration) {
        configuration = c
        let w = ModuleWeights<BackboneTensors>(weights, configuration: c)
        embeddings = w.weight(.embeddings)
        layers = (0..<c.numberOfLayers).map { Layer(ModuleWeights(weights, prefix: BackboneTensors.layer($0), configuration: c)) }
        finalNorm = w.tensor(.finalNorm)
        lmHead = c.tieWordEmbeddings ? embeddings : w.weight(.lmHead)
    }

    public init(directory: ModelDirectory) throws(LoadingError) {
        guard let c = Layer.configuration(directory.configuration) else {
            throw .unsupported(path: directory.url.appendingPathComponent("config.json").path,
                               what: "this is not a \(Layer.familyName) configuration; load it with ModelLoader")
        }
        let weights = try WeightMap.load(from: directory, expected: Self.expectedWeights(c), sanitize: Self.sanitize(c))
        self.init(weights: weights, configuration: c)
    }

    public func makeState() -> ModelState { ModelState(layers: layers.map { $0.makeState() }) }

    /// Rows of the embedding matrix: [L] → [L, D].
    public func embed(_ ids: [Int]) -> Tensor { embeddingRows(embeddings, ids) }

    /// Runs every layer over `inputs` [L, D] from `state` and applies norm_f: the last layer's
    /// normed hidden states [L, D]. `adaptation` (ReMamba stage 2) rewrites Δ's pre-activation in every layer.
    /// One position without adaptation (decoding) takes the layers' decode step.
    public func hiddenStates(_ inputs: Tensor, state: inout ModelState, adaptation: SelectiveAdaptation? = nil) -> Tensor {
        if inputs.rows == 1 && adaptation == nil {
            state.position += 1
            return decodeStep(inputs) { i, body in LayerState.withBatch(of: &state.layers[i], body) }
        }
        var h = inputs
        let start = state.position
        for (i, layer) in layers.enumerated() {
            let adapt = adaptation.map { a in { (delta: inout Tensor) in a.apply(to: &delta, layer: i, firstPosition: start) } }
            h = layer.forward(h, state: &state.layers[i], options: options, adapt: adapt)
        }
        state.position += inputs.rows
        return RMSNorm.forward(h, weight: finalNorm, epsilon: configuration.layerNormEpsilon)
    }

    /// One position of each of B sequences: inputs [B, D], row b continuing `states[b]` → norm_f [B, D].
    public func hiddenStates(_ inputs: Tensor, states: inout [ModelState]) -> Tensor {
        for b in states.indices { states[b].position += 1 }
        return decodeStep(inputs) { i, body in LayerState.withLayer(i, of: &states, body) }
    }

    /// inputs [B, D] through every layer's decode step, one scratch buffer for all of them, then norm_f.
    /// `withStates(i, body)` runs `body` on layer i's states of the B sequences.
    private func decodeStep(_ inputs: Tensor, _ withStates: (Int, (inout [LayerState]) -> Void) -> Void) -> Tensor {
        let batch = inputs.rows
        var h = inputs
        guard batch > 0 else { return h }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Layer.stepScratchCount(configuration, batch: batch))
        defer { scratch.deallocate() }
        h.data.withUnsafeMutableBufferPointer { hidden in
            for (i, layer) in layers.enumerated() {
                withStates(i) { layer.step(hidden.baseAddress!, batch: batch, states: &$0, scratch: scratch) }
            }
        }
        return RMSNorm.forward(h, weight: finalNorm, epsilon: configuration.layerNormEpsilon)
    }

    /// hidden [L, D] → logits [L, V].
    public func logits(_ hidden: Tensor) -> Tensor { Linear.forward(hidden, weight: lmHead) }

    /// Number of parameters (tied embeddings counted once).
    public var parameterCount: Int {
        Self.expectedWeights(configuration).values.reduce(0) { $0 + $1.reduce(1, *) }
    }
}

/// The Mamba (v1) language model (Hugging Face `MambaForCausalLM`).
public typealias MambaModel = BackboneModel<MambaLayer>
/// The Mamba-2 language model (Hugging Face `Mamba2ForCausalLM`).
public typealias Mamba2Model = BackboneModel<Mamba2Layer>

extension BackboneModel where Layer == Mamba2Layer {
    /// `.sequential` runs the recurrence for prompts too: the slow twin of the chunked SSD.
    public var scan: Mamba2Layer.Scan {
        get { options.scan }
        set { options.scan = newValue }
    }
}
