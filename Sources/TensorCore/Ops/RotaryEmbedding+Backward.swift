/// Backward of `RotaryEmbedding.apply`, same argument order, in place. Each pair (x_i, x_{i+F}) of a head
/// at position t was rotated by θ = t·f_i:  y = R(θ)·x  with  R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]]
/// (RoFormer, Su et al. 2021, Eq. 34). R is orthogonal, so  dx = R(θ)ᵀ·dy = R(−θ)·dy: the same rotation
/// with every frequency negated (t·(−f) = −(t·f) exactly in Float, and cos, sin are even and odd, so the
/// angles are the forward's to the last bit). Legend: L rows, H heads, P head_dim, F = P/2 frequencies.
extension RotaryEmbedding {
    /// dy [L, H·P] (∂loss/∂rotated) → ∂loss/∂(input before the rotation), in place.
    public static func backward(_ dy: inout Tensor, heads: Int, firstPosition: Int, inverseFrequencies: [Float]) {
        apply(&dy, heads: heads, firstPosition: firstPosition, inverseFrequencies: inverseFrequencies.map { -$0 })
    }
}
