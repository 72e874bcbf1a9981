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

    static func expectedWeights(_ c: LlamaConfiguration, prefix p: String) -> [String: [Int]] {
        let (d, i, q, kv) = (c.hiddenSize, c.intermediateSize, c.numberOfHeads * c.headDimension, c.numberOfKeyValueHeads * c.headDimension)
        var w: [String: [Int]] = [
            "\(p).input_layernorm.weight": [d], "\(p).post_attention_layernorm.weight": [d],
            "\(p).self_attn.q_proj.weight": [q, d], "\(p).self_attn.k_proj.weight": [kv, d],
            "\(p).self_attn.v_proj.weight": [kv, d], "\(p).self_attn.o_proj.weight": [d, q],
            "\(p).mlp.gate_proj.weight": [i, d], "\(p).mlp.up_proj.weight": [i, d], "\(p).mlp.down_proj.weight": [d, i],
        ]
        if c.attentionBias {
            w.merge(["\(p).self_attn.q_proj.bias": [q], "\(p).self_attn.k_proj.bias": [kv],
                     "\(p).self_attn.v_proj.bias": [kv], "\(p).self_attn.o_proj.bias": [d]]) { a, _ in a }
        }
        if c.mlpBias {
            w.merge(["\(p).mlp.gate_proj.bias": [i], "\(p).mlp.up_proj.bias": [i], "\(p).mlp.down_proj.bias": [d]]) { a, _ in a }
        }
        return w
    }

    init(_ weights: WeightMap, prefix p: String, configuration c: LlamaConfiguration) {
        configuration = c
        inputNorm = weights["\(p).input_layernorm.weight"]
        postAttentionNorm = weights["\(p).post_attention_layernorm.weight"]
        func linear(_ name: String) -> (Weight, Tensor?) { (weights.weight("\(p).\(name).weight"), weights.tensorIfPresent("\(p).\(name).bias")) }
        (query, queryBias) = linear("self_attn.q_proj")
        (key, keyBias) = linear("self_attn.k_proj")
        (value, valueBias) = linear("self_attn.v_proj")
        (output, outputBias) = linear("self_attn.o_proj")
        (gate, gateBias) = linear("mlp.gate_proj")
        (up, upBias) = linear("mlp.up_proj")
        (down, downBias) = linear("mlp.down_proj")
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
