import Foundation

/// The output norm of Mamba-2 (transformers' `MambaRMSNormGated`, mamba_ssm's `RMSNormGated`): RMSNorm
/// over groups of `groupSize` consecutive channels of each row, with the gate SiLU(z) applied
///   normBeforeGate == false:  out = w ⊙ norm_g(y ⊙ SiLU(z))     (mamba_ssm's default; transformers always)
///   normBeforeGate == true:   out = w ⊙ norm_g(y) ⊙ SiLU(z)
/// where norm_g(v) = v / sqrt(mean over the group of v² + ε). Shapes: y, z [L, E], w [E], E a multiple
/// of groupSize.
public enum GatedRMSNorm {
    public static func forward(_ y: Tensor, gate z: Tensor, weight: Tensor, groupSize: Int, epsilon: Float,
                               normBeforeGate: Bool) -> Tensor {
        let e = y.columns
        precondition(z.shape == y.shape && weight.count == e && groupSize > 0 && e % groupSize == 0,
                     "GatedRMSNorm: y \(y.shape), z \(z.shape), w \(weight.shape), group \(groupSize)")
        var (out, gate) = (y, z)
        out.data.withUnsafeMutableBufferPointer { o in
            gate.data.withUnsafeMutableBufferPointer { g in
                if y.count > 0 { forward(o.baseAddress!, gate: g.baseAddress!, rows: y.rows, weight: weight, groupSize: groupSize,
                                   epsilon: epsilon, normBeforeGate: normBeforeGate) }
            }
        }
        return out
    }

    /// In place on pointers: y [rows, E] becomes the output; z [rows, E] becomes SiLU(z) on the way.
    public static func forward(_ y: UnsafeMutablePointer<Float>, gate z: UnsafeMutablePointer<Float>, rows: Int, weight: Tensor,
                               groupSize: Int, epsilon: Float, normBeforeGate: Bool) {
        let count = rows * weight.count
        Activations.silu(z, count: count)                                   // [L, E]
        if !normBeforeGate { for i in 0..<count { y[i] *= z[i] } }
        weight.data.withUnsafeBufferPointer { w in
            for base in stride(from: 0, to: count, by: groupSize) {
                let g = base % weight.count
                var sumSquares: Float = 0
                for i in 0..<groupSize { sumSquares += y[base + i] * y[base + i] }
                let scale = 1 / (sumSquares / Float(groupSize) + epsilon).squareRoot()
                for i in 0..<groupSize { y[base + i] *= scale * w[g + i] }
            }
        }
        if normBeforeGate { for i in 0..<count { y[i] *= z[i] } }
    }

    /// The slow twin: one element at a time, in Double, with the scalar SiLU.
    public static func reference(_ y: Tensor, gate z: Tensor, weight: Tensor, groupSize: Int, epsilon: Float,
                                 normBeforeGate: Bool) -> Tensor {
        let e = y.columns
        var out = y
        for t in 0..<y.rows {
            for g in stride(from: 0, to: e, by: groupSize) {
                let gate = (0..<groupSize).map { Double(Activations.siluReference(z.data[t * e + g + $0])) }
                let v = (0..<groupSize).map { Double(y.data[t * e + g + $0]) * (normBeforeGate ? 1 : gate[$0]) }
                let scale = 1 / (v.reduce(0) { $0 + $1 * $1 } / Double(groupSize) + Double(epsilon)).squareRoot()
                for i in 0..<groupSize {
                    out.data[t * e + g + i] = Float(v[i] * scale * Double(weight.data[g + i]) * (normBeforeGate ? gate[i] : 1))
                }
            }
        }
        return out
    }
}
