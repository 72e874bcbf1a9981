import Foundation

/// Element-wise activations (vectorized) with their obvious scalar twins.
public enum Activations {
    /// SiLU(x) = x · σ(x), in place.
    public static func silu(_ x: inout Tensor) { mapInPlace(&x.data, vsilu) }

    /// softplus(x) = log(1 + eˣ), in place.
    public static func softplus(_ x: inout Tensor) { mapInPlace(&x.data, vsoftplus) }

    /// y ← y · SiLU(z), the output gate of the Mamba block.
    public static func gate(_ y: inout Tensor, by z: Tensor) {
        precondition(y.shape == z.shape, "gate: \(y.shape) vs \(z.shape)")
        var s = z
        silu(&s)
        for i in 0..<y.count { y.data[i] *= s.data[i] }
    }

    // Slow twins (scalar Foundation math), the reference the fast paths are tested against.
    public static func siluReference(_ x: Float) -> Float { x / (1 + Foundation.exp(-x)) }
    public static func softplusReference(_ x: Float) -> Float { x > 20 ? x : Foundation.log1p(Foundation.exp(x)) }
}
