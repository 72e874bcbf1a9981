import Foundation
import MambaLM
import TensorCore

/// One Llama decoder layer for training: the forward of `LlamaLayer.forward` (same ops, same order, the
/// whole sequence from position 0 with no cache) keeping what the backward needs, and the backward beside it.
///   h₁  = h + o_proj(Attention(RoPE(q_proj(n₁)), RoPE(k_proj(n₁)), v_proj(n₁))),   n₁ = RMSNorm(h)
///   out = h₁ + down_proj(up_proj(n₂) ⊙ SiLU(gate_proj(n₂))),                        n₂ = RMSNorm(h₁)
/// (SwiGLU: Shazeer 2020, Eq. 6; RoPE: Su et al. 2021, Eq. 34; attention: `CausalAttention+Backward`.)
/// Every Linear may carry a LoRA branch (`AdaptedLinear`). Legend: L length, D hidden_size, I intermediate_size,
/// H heads, G key/value heads, P head_dim.
public struct LlamaLayerTape: Sendable {
    let input: Tensor        // [L, D]    h, the residual stream entering the layer
    let normed: Tensor       // [L, D]    n₁
    let queries: Tensor      // [L, H·P]  after RoPE
    let keys: Tensor         // [L, G·P]  after RoPE
    let values: Tensor       // [L, G·P]
    let attended: Tensor     // [L, H·P]  attention output, o_proj's input
    let residual: Tensor     // [L, D]    h₁
    let normed2: Tensor      // [L, D]    n₂
    let gate: Tensor         // [L, I]    gate_proj(n₂)
    let up: Tensor           // [L, I]    up_proj(n₂)
    // Not kept: the attention probabilities (recomputed per head in the backward), up ⊙ SiLU(gate) (element-wise).
}

public enum LlamaLayerTraining {
    /// hidden [L, D] at positions 0..<L → (hidden [L, D], tape); `inverseFrequencies` [P/2] are RoPE's for L positions.
    public static func forward(_ hidden: Tensor, _ p: LlamaLayerParameters, _ c: LlamaConfiguration,
                               inverseFrequencies: [Float]) -> (Tensor, LlamaLayerTape) {
        let normed = RMSNorm.forward(hidden, weight: p[.inputNorm]!, epsilon: c.rmsNormEpsilon)
        var q = linear(normed, p, .query, .queryBias)                                        // [L, H·P]
        var k = linear(normed, p, .key, .keyBias)                                            // [L, G·P]
        let v = linear(normed, p, .value, .valueBias)                                        // [L, G·P]
        RotaryEmbedding.apply(&q, heads: c.numberOfHeads, firstPosition: 0, inverseFrequencies: inverseFrequencies)
        RotaryEmbedding.apply(&k, heads: c.numberOfKeyValueHeads, firstPosition: 0, inverseFrequencies: inverseFrequencies)
        let attended = CausalAttention.forward(queries: q, keys: k, values: v, heads: c.numberOfHeads)   // [L, H·P]
        var residual = linear(attended, p, .output, .outputBias)                             // [L, D]
        add(&residual, hidden)                                                               // h₁
        let normed2 = RMSNorm.forward(residual, weight: p[.postAttentionNorm]!, epsilon: c.rmsNormEpsilon)
        let gate = linear(normed2, p, .gate, .gateBias)                                      // [L, I]
        let up = linear(normed2, p, .up, .upBias)                                            // [L, I]
        var gated = up
        Activations.gate(&gated, by: gate)                                                   // up ⊙ SiLU(gate)
        var out = linear(gated, p, .down, .downBias)                                         // [L, D]
        add(&out, residual)
        return (out, LlamaLayerTape(input: hidden, normed: normed, queries: q, keys: k, values: v, attended: attended,
                                    residual: residual, normed2: normed2, gate: gate, up: up))
    }

    /// dOut = ∂loss/∂(layer output) [L, D] → ∂loss/∂(layer input) [L, D]; accumulates into `g`.
    public static func backward(_ tape: LlamaLayerTape, _ p: LlamaLayerParameters, _ c: LlamaConfiguration,
                                inverseFrequencies: [Float], outputGradient dOut: Tensor, gradients g: inout LlamaLayerParameters) -> Tensor {
        let (l, d) = (tape.input.rows, c.hiddenSize)
        // out = h₁ + down_proj(up ⊙ SiLU(gate))
        var gated = tape.up
        Activations.gate(&gated, by: tape.gate)
        var dGated = Tensor(zeros: gated.shape)
        linearBackward(gated, p, .down, .downBias, outputGradient: dOut, inputGradient: &dGated, gradients: &g)
        var dUp = Tensor(zeros: gated.shape), dGate = Tensor(zeros: gated.shape)
        Activations.gateBackward(tape.up, by: tape.gate, outputGradient: dGated, inputGradient: &dUp, gateGradient: &dGate)
        var dNormed2 = Tensor(zeros: [l, d])
        linearBackward(tape.normed2, p, .up, .upBias, outputGradient: dUp, inputGradient: &dNormed2, gradients: &g)
        linearBackward(tape.normed2, p, .gate, .gateBias, outputGradient: dGate, inputGradient: &dNormed2, gradients: &g)
        var dResidual = dOut                                                                 // the residual path
        RMSNorm.backward(tape.residual, weight: p[.postAttentionNorm]!, epsilon: c.rmsNormEpsilon, outputGradient: dNormed2,
                         inputGradient: &dResidual, weightGradient: &g.tensors[.postAttentionNorm]!)
        // h₁ = h + o_proj(Attention(q, k, v))
        var dAttended = Tensor(zeros: tape.attended.shape)
        linearBackward(tape.attended, p, .output, .outputBias, outputGradient: dResidual, inputGradient: &dAttended, gradients: &g)
        var (dq, dk, dv) = CausalAttention.backward(queries: tape.queries, keys: tape.keys, values: tape.values,
                                                    heads: c.numberOfHeads, outputGradient: dAttended)
        RotaryEmbedding.backward(&dq, heads: c.numberOfHeads, firstPosition: 0, inverseFrequencies: inverseFrequencies)
        RotaryEmbedding.backward(&dk, heads: c.numberOfKeyValueHeads, firstPosition: 0, inverseFrequencies: inverseFrequencies)
        var dNormed = Tensor(zeros: [l, d])
        linearBackward(tape.normed, p, .query, .queryBias, outputGradient: dq, inputGradient: &dNormed, gradients: &g)
        linearBackward(tape.normed, p, .key, .keyBias, outputGradient: dk, inputGradient: &dNormed, gradients: &g)
        linearBackward(tape.normed, p, .value, .valueBias, outputGradient: dv, inputGradient: &dNormed, gradients: &g)
        var dInput = dResidual                                                               // the residual path
        RMSNorm.backward(tape.input, weight: p[.inputNorm]!, epsilon: c.rmsNormEpsilon, outputGradient: dNormed,
                         inputGradient: &dInput, weightGradient: &g.tensors[.inputNorm]!)
        return dInput
    }

    /// x·Wᵀ + b with the module's LoRA branch, if any.
    static func linear(_ x: Tensor, _ p: LlamaLayerParameters, _ weight: LlamaTensors, _ bias: LlamaTensors) -> Tensor {
        AdaptedLinear.forward(x, weight: p[weight]!, bias: p[bias], adapter: p.adapters[weight.module])
    }

    /// Its backward: accumulates dx and (dW, db) or the branch's (dA, dB). The three accumulators move out of
    /// `g` and back (two inout accesses to `g.tensors` would overlap), staying uniquely referenced.
    static func linearBackward(_ x: Tensor, _ p: LlamaLayerParameters, _ weight: LlamaTensors, _ bias: LlamaTensors,
                               outputGradient dy: Tensor, inputGradient dx: inout Tensor, gradients g: inout LlamaLayerParameters) {
        var dW = g.tensors.removeValue(forKey: weight)!, dB = g.tensors.removeValue(forKey: bias)
        var dAdapter = g.adapters.removeValue(forKey: weight.module)
        AdaptedLinear.backward(x, weight: p[weight]!, adapter: p.adapters[weight.module], outputGradient: dy, inputGradient: &dx,
                               weightGradient: &dW, biasGradient: &dB, adapterGradient: &dAdapter)
        (g.tensors[weight], g.tensors[bias], g.adapters[weight.module]) = (dW, dB, dAdapter)
    }

    /// a += b, element-wise (the residual connection).
    static func add(_ a: inout Tensor, _ b: Tensor) {
        for i in 0..<a.count { a.data[i] += b.data[i] }
    }
}
