import MambaLM
import TensorCore

/// ReMamba's Δ adaptation inside one block (Eq. 8, as the official code computes it), for training.
/// At the K inserted rows t ∈ `positions` (rows of the block's input, stage 2 starts at position 0):
///   δ_t = w_t·α_j + Θ_l,   Δ_t = softplus(δ_t + b),   j = t − positions.lowerBound
/// where w is Δ's pre-activation without its bias: Mamba-1 W_dt·r [L, E] (b = dt_proj.bias), Mamba-2 in_proj's
/// dt columns [L, H] (b = dt_bias, then the time_step_limit clamp). The forward is `SelectiveAdaptation.apply`
/// itself (the inference code); the backward is below. Legend: L rows, C channels of Δ (E or H), K inserted rows.
public struct LayerAdaptation: Sendable {
    let adaptation: SelectiveAdaptation
    let layer: Int

    var rows: Range<Int> { adaptation.positions }

    /// w [L, C] → δ at the inserted rows, in place.
    func apply(to weighted: inout Tensor) { adaptation.apply(to: &weighted, layer: layer, firstPosition: 0) }

    /// ∂loss/∂α and ∂loss/∂Θ_l of one block.
    public struct Gradient {
        var alpha: [Double]   // [K]
        var offset: Tensor    // [C]
    }

    /// dDelta [L, C] = ∂loss/∂δ (pre-bias, pre-softplus) → ∂loss/∂w, i.e. dDelta with the inserted rows
    /// scaled by α; accumulates dα_j += Σ_c dδ_tc·w_tc and dΘ_l += Σ_t dδ_t into `g`.
    /// `weighted` [K, C] is w at the inserted rows (before the adaptation).
    func backward(weighted: Tensor, deltaGradient dDelta: Tensor, gradient g: inout Gradient) -> Tensor {
        let c = dDelta.columns
        var dWeighted = dDelta
        for (j, t) in rows.enumerated() {
            var dot = 0.0
            for ch in 0..<c {
                let d = dDelta.data[t * c + ch]
                dot += Double(d) * Double(weighted.data[j * c + ch])
                g.offset.data[ch] += d
                dWeighted.data[t * c + ch] = d * adaptation.alpha[j]
            }
            g.alpha[j] += dot
        }
        return dWeighted
    }
}
