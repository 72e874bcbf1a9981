import TensorCore

/// ReMamba stage 2 (selective adaptation, Eq. 8 as the official code computes it): at the K inserted
/// positions only, in every layer l, the pre-activation of Δ becomes
///   δ = (W_dt · r) · α + Θ_l        and then   Δ = softplus(δ + b_dt)
/// where W_dt · r is dt_proj without its bias, α = ReLU(importance) is one scalar per inserted position,
/// and Θ_l (`ret_bias.param`, [E]) is the learned per-layer offset. Positions are absolute (0-based).
public struct SelectiveAdaptation: Sendable {
    public var positions: Range<Int>
    public var alpha: [Float]
    /// Θ_l, one [E] vector per layer.
    public var deltaOffsets: [Tensor]

    public init(positions: Range<Int>, alpha: [Float], deltaOffsets: [Tensor]) {
        precondition(alpha.count == positions.count, "SelectiveAdaptation: \(alpha.count) α for \(positions.count) positions")
        self.positions = positions
        self.alpha = alpha
        self.deltaOffsets = deltaOffsets
    }

    /// `delta` [L, E] holds rows for absolute positions firstPosition ..< firstPosition + L.
    public func apply(to delta: inout Tensor, layer: Int, firstPosition: Int) {
        let e = delta.columns
        let offset = deltaOffsets[layer]
        for t in 0..<delta.rows {
            let position = firstPosition + t
            guard positions.contains(position) else { continue }
            let a = alpha[position - positions.lowerBound]
            for c in 0..<e { delta.data[t * e + c] = delta.data[t * e + c] * a + offset.data[c] }
        }
    }
}
