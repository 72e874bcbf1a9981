import TensorCore

/// One decoder layer of Llama: h ← h + Attention(RMSNorm(h)); h ← h + MLP(RMSNorm(h)), with grouped-query
/// attention over the layer's key/value cache and a SwiGLU MLP. Weights are used only through
/// `Linear.forward` and `RMSNorm.forward`.
/// Legend: T new rows, D hidden_size, I intermediate_size, H heads, G key/value heads, P head_dim.
public struct LlamaLayer: Sendable {
    let inputNorm: Tensor                 // [D]
    let query: Weight, queryBias: Tensor? // [H·P, D], [H·P]
    let key: Weight, keyBias: Tensor?     // [G·P, D], [G·P]
    let value: Weight, valueBias: Tensor? // [G·P, D], [G·P]
    let output: Weight, outputBias: Tensor? // [D, H·P], [D]
    let postAttentionNorm: Tensor         // [D]
    let gate: Weight, gateBias: Tensor?   // [I, D], [I]
    let up: Weight, upBias: Tensor?       // [I, D], [I]
    let down: Weight, downBias: Tensor?   // [D, I], [D]
    let configuration: LlamaConfiguration

    init(_ w: ModuleWeights<LlamaTensors>) {
        configuration = w.configuration
        inputNorm = w.tensor(.inputNorm)
        postAttentionNorm = w.tensor(.postAttentionNorm)
        (query, queryBias) = (w.weight(.query), w.tensorIfPresent(.queryBias))
        (key, keyBias) = (w.weight(.key), w.tensorIfPresent(.keyBias))
        (value, valueBias) = (w.weight(.value), w.tensorIfPresent(.valueBias))
        (output, outputBias) = (w.weight(.output), w.tensorIfPresent(.outputBias))
        (gate, gateBias) = (w.weight(.gate), w.tensorIfPresent(.gateBias))
        (up, upBias) = (w.weight(.up), w.tensorIfPresent(.upBias))
        (down, downBias) = (w.weight(.down), w.tensorIfPresent(.downBias))
    }

    func makeCache() -> KeyValueCache {
        KeyValueCache(heads: configuration.numberOfKeyValueHeads, headDimension: configuration.headDimension)
    }

    /// hidden [T, D] at positions first..<first + T → hidden [T, D]; the T keys and values join `cache`.
    /// `inverseFrequencies` [P/2] are the rotary frequencies of this call.
    func forward(_ hidden: Tensor, cache: inout KeyValueCache, first: Int, inverseFrequencies: [Float]) -> Tensor {
        let c = configuration
        let normed = RMSNorm.forward(hidden, weight: inputNorm, epsilon: c.rmsNormEpsilon)
        var q = Linear.forward(normed, weight: query, bias: queryBias)                     // [T, H·P]
        var k = Linear.forward(normed, weight: key, bias: keyBias)                         // [T, G·P]
        let v = Linear.forward(normed, weight: value, bias: valueBias)                     // [T, G·P]
        RotaryEmbedding.apply(&q, heads: c.numberOfHeads, firstPosition: first, inverseFrequencies: inverseFrequencies)
        RotaryEmbedding.apply(&k, heads: c.numberOfKeyValueHeads, firstPosition: first, inverseFrequencies: inverseFrequencies)
        cache.append(keys: k, values: v)
        let attended = CausalAttention.forward(queries: q, keys: cache.keys, values: cache.values,
                                               heads: c.numberOfHeads, first: first)        // [T, H·P]
        var h = Linear.forward(attended, weight: output, bias: outputBias)                 // [T, D]
        add(&h, hidden)
        let normed2 = RMSNorm.forward(h, weight: postAttentionNorm, epsilon: c.rmsNormEpsilon)
        let g = Linear.forward(normed2, weight: gate, bias: gateBias)                      // [T, I]
        var u = Linear.forward(normed2, weight: up, bias: upBias)                          // [T, I]
        Activations.gate(&u, by: g)                                                         // up · SiLU(gate)
        var out = Linear.forward(u, weight: down, bias: downBias)                          // [T, D]
        add(&out, h)
        return out
    }
}

/// a += b, element-wise (the residual connection).
func add(_ a: inout Tensor, _ b: Tensor) {
    precondition(a.shape == b.shape, "add: \(a.shape) + \(b.shape)")
    for i in 0..<a.count { a.data[i] += b.data[i] }
}

/// The tensors of a Llama decoder layer under model.layers.N, as Hugging Face names them.
public enum LlamaTensors: String, CheckpointTensors {
    case inputNorm = "input_layernorm.weight", postAttentionNorm = "post_attention_layernorm.weight"
    case query = "self_attn.q_proj.weight", queryBias = "self_attn.q_proj.bias"
    case key = "self_attn.k_proj.weight", keyBias = "self_attn.k_proj.bias"
    case value = "self_attn.v_proj.weight", valueBias = "self_attn.v_proj.bias"
    case output = "self_attn.o_proj.weight", outputBias = "self_attn.o_proj.bias"
    case gate = "mlp.gate_proj.weight", gateBias = "mlp.gate_proj.bias"
    case up = "mlp.up_proj.weight", upBias = "mlp.up_proj.bias"
    case down = "mlp.down_proj.weight", downBias = "mlp.down_proj.bias"

    public func shape(_ c: LlamaConfiguration) -> TensorShape? {
        let (d, i, q, kv) = (c.hiddenSize, c.intermediateSize, c.numberOfHeads * c.headDimension, c.numberOfKeyValueHeads * c.headDimension)
        let (attention, mlp) = (c.attentionBias, c.mlpBias)
        switch self {
        case .inputNorm, .postAttentionNorm: return [d]
        case .query: return [q, d]
        case .key, .value: return [kv, d]
        case .output: return [d, q]
        case .gate, .up: return [i, d]
        case .down: return [d, i]
        case .queryBias: return attention ? [q] : nil
        case .keyBias, .valueBias: return attention ? [kv] : nil
        case .outputBias: return attention ? [d] : nil
        case .gateBias, .upBias: return mlp ? [i] : nil
        case .downBias: return mlp ? [d] : nil
        }
    }

    public static let streamed: Set<LlamaTensors> = [.query, .key, .value, .output, .gate, .up, .down]
}

/// The tensors of a Llama checkpoint around its layers.
public enum LlamaModelTensors: String, CheckpointTensors {
    case embeddings = "model.embed_tokens.weight", finalNorm = "model.norm.weight", lmHead = "lm_head.weight"

    public func shape(_ c: LlamaConfiguration) -> TensorShape? {
        switch self {
        case .embeddings: [c.vocabularySize, c.hiddenSize]
        case .finalNorm: [c.hiddenSize]
        case .lmHead: c.tieWordEmbeddings ? nil : [c.vocabularySize, c.hiddenSize]
        }
    }

    public static let streamed: Set<LlamaModelTensors> = [.embeddings, .lmHead]

    /// The prefix of layer `i`'s tensors.
    public static func layer(_ i: Int) -> String { "model.layers.\(i)" }
}
