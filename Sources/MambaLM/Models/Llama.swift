import Foundation
import TensorCore

/// The Llama language model (Hugging Face `LlamaForCausalLM`): embed_tokens → decoder layers → norm →
/// lm_head. The paper's transformer baseline (llama2-3b = OpenLLaMA 3B). Immutable: the keys and values
/// seen so far live in `ModelState.attention`, one `KeyValueCache` per layer, and grow with the context.
/// Prompts run in chunks of `prefillChunk` rows, each attending causally to the cache and to itself.
/// Legend: L length, D hidden_size, V vocab.
public struct LlamaModel: LanguageModel {
    public let configuration: LlamaConfiguration
    let embeddings: Weight      // [V, D]
    let layers: [LlamaLayer]
    let finalNorm: Tensor       // [D]
    let lmHead: Weight          // [V, D] (the embeddings when tied)
    /// Prompt rows per chunk: bounds the [chunk, S] attention scores and the activations.
    public var prefillChunk = 512

    public var vocabularySize: Int { configuration.vocabularySize }
    public var eosTokenID: Int? { configuration.eosTokenID }
    /// The longest context the model was trained for (`max_position_embeddings`).
    public var maxPositions: Int { configuration.maxPositionEmbeddings }
    public var positionLimit: Int? { maxPositions }

    /// Names and shapes of every tensor of the checkpoint, as Hugging Face names them.
    public static func expectedWeights(_ c: LlamaConfiguration) -> [String: [Int]] {
        var w = LlamaModelTensors.expectedWeights(c, prefix: "")
        for i in 0..<c.numberOfLayers { w.merge(LlamaTensors.expectedWeights(c, prefix: LlamaModelTensors.layer(i))) { a, _ in a } }
        return w
    }

    /// Checkpoint name → model name: older checkpoints carry each layer's `rotary_emb.inv_freq` buffer
    /// (computed from config.json here, as transformers does), and a tied lm_head is dropped.
    public static func sanitize(_ c: LlamaConfiguration) -> (String) -> String? {
        { name in
            if name.hasSuffix(".self_attn.rotary_emb.inv_freq") { return nil }
            if name == LlamaModelTensors.lmHead.rawValue && c.tieWordEmbeddings { return nil }
            return name
        }
    }

    public init(weights: WeightMap, configuration c: LlamaConfiguration) {
        configuration = c
        let w = ModuleWeights<LlamaModelTensors>(weights, configuration: c)
        embeddings = w.weight(.embeddings)
        layers = (0..<c.numberOfLayers).map { LlamaLayer(ModuleWeights(weights, prefix: LlamaModelTensors.layer($0), configuration: c)) }
        finalNorm = w.tensor(.finalNorm)
        lmHead = c.tieWordEmbeddings ? embeddings : w.weight(.lmHead)
    }

    public init(directory: ModelDirectory) throws(LoadingError) {
        guard let c = directory.configuration.llama else {
            throw .unsupported(path: directory.url.appendingPathComponent("config.json").path,
                               what: "this is not a Llama configuration; load it with ModelLoader")
        }
        self.init(weights: try WeightMap.load(from: directory, expected: Self.expectedWeights(c), sanitize: Self.sanitize(c)),
                  configuration: c)
    }

    public func makeState() -> ModelState { ModelState(attention: layers.map { $0.makeCache() }) }

    public func checkTokens(_ ids: [Int]) throws(ModelError) {
        for (position, id) in ids.enumerated() where id < 0 || id >= vocabularySize {
            throw .tokenOutOfRange(id: id, position: position, vocabularySize: vocabularySize)
        }
    }

    /// ids [L] continuing `state` → norm(last layer) [L, D], in one pass (one chunk); `state.position` advances by L.
    /// Rotary frequencies are those of a sequence of `state.position + L` positions (dynamic scaling
    /// recomputes them per call, as transformers' cache does).
    public func hiddenStates(_ ids: [Int], state: inout ModelState) -> Tensor {
        let first = state.position
        let frequencies = configuration.rotary.inverseFrequencies(headDimension: configuration.headDimension,
                                                                  sequenceLength: first + ids.count, maxPositions: maxPositions)
        var h = embeddingRows(embeddings, ids)                                              // [L, D]
        for (i, layer) in layers.enumerated() {
            h = layer.forward(h, cache: &state.attention[i], first: first, inverseFrequencies: frequencies)
        }
        state.position += ids.count
        return RMSNorm.forward(h, weight: finalNorm, epsilon: configuration.rmsNormEpsilon)
    }

    /// hidden [L, D] → logits [L, V].
    public func logits(_ hidden: Tensor) -> Tensor { Linear.forward(hidden, weight: lmHead) }

    /// Logits [L, V] of every position, continuing from `state`, chunk by chunk.
    public func forward(_ ids: [Int], state: inout ModelState) -> Tensor {
        Tensor.concatenateRows(chunks(ids.count).map { logits(hiddenStates(Array(ids[$0]), state: &state)) })
    }

    /// Logits [L, V] of every position from a fresh state (what `LlamaForCausalLM(ids).logits` gives).
    public func forward(_ ids: [Int]) throws(ModelError) -> Tensor {
        try checkTokens(ids)
        var state = makeState()
        return forward(ids, state: &state)
    }

    public func prefill(_ ids: [Int], state: inout ModelState) throws -> Tensor {
        if ids.isEmpty { throw ModelError.emptyPrompt }
        try checkTokens(ids)
        var last = Tensor(zeros: [1, configuration.hiddenSize])
        for range in chunks(ids.count) {
            let h = hiddenStates(Array(ids[range]), state: &state)
            last = h.rows((h.rows - 1)..<h.rows)
        }
        return logits(last).reshaped([vocabularySize])
    }

    public func step(_ id: Int, state: inout ModelState) -> Tensor {
        logits(hiddenStates([id], state: &state)).reshaped([vocabularySize])
    }

    /// 0..<count in pieces of `prefillChunk`.
    func chunks(_ count: Int) -> [Range<Int>] {
        stride(from: 0, to: count, by: prefillChunk).map { $0..<min($0 + prefillChunk, count) }
    }

    /// Number of parameters (tied embeddings counted once).
    public var parameterCount: Int { Self.expectedWeights(configuration).values.reduce(0) { $0 + $1.reduce(1, *) } }
}
