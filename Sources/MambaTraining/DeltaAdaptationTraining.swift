import MambaLM
import TensorCore

/// ReMamba's Δ adaptation inside one Mamba block (Eq. 8, as the official code computes it), for training.
/// At the K inserted rows t ∈ `positions` (rows of the block's input, stage 2 starts at position 0):
///   δ_t = (W_dt·r_t)·α_j + Θ_l,   Δ_t = softplus(δ_t + b_dt),   j = t − positions.lowerBound
/// The forward is `SelectiveAdaptation.apply` itself (the inference code); the backward is below.
/// Legend: L rows, E d_inner, K inserted rows, R dt_rank.
struct LayerAdaptation: Sendable {
    let adaptation: SelectiveAdaptation
    let layer: Int

    var rows: Range<Int> { adaptation.positions }

    /// weighted [L, E] = W_dt·r (no bias) → δ at the inserted rows, in place.
    func apply(to weighted: inout Tensor) { adaptation.apply(to: &weighted, layer: layer, firstPosition: 0) }

    /// ∂loss/∂α and ∂loss/∂Θ_l of one block.
    struct Gradient {
        var alpha: [Double]   // [K]
        var offset: Tensor    // [E]
    }

    /// dDelta [L, E] = ∂loss/∂δ (pre-bias, pre-softplus) → ∂loss/∂(W_dt·r), i.e. dDelta with the inserted rows
    /// scaled by α; accumulates dα_j += Σ_c dδ_tc·(W_dt·r)_tc and dΘ_l += Σ_t dδ_t into `g`.
    /// `dtLowRank` [L, R] and `dtProjection` [E, R] recompute W_dt·r on the K rows.
    func backward(dtLowRank: Tensor, dtProjection: Tensor, deltaGradient dDelta: Tensor, gradient g: inout Gradient) -> Tensor {
        let e = dDelta.columns
        let weighted = Linear.forward(dtLowRank.rows(rows), weight: dtProjection)   // [K, E]
        var dWeighted = dDelta
        for (j, t) in rows.enumerated() {
            var dot = 0.0
            for c in 0..<e {
                let d = dDelta.data[t * e + c]
                dot += Double(d) * Double(weighted.data[j * e + c])
                g.offset.data[c] += d
                dWeighted.data[t * e + c] = d * adaptation.alpha[j]
            }
            g.alpha[j] += dot
        }
        return dWeighted
    }
}
