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
        z.data.withUnsafeBufferPointer { zp in
            y.data.withUnsafeMutableBufferPointer { yp in
                forEachVectorRange(zp.count) { gate(yp.baseAddress! + $0.lowerBound, by: zp.baseAddress! + $0.lowerBound, count: $0.count) }
            }
        }
    }

    /// y ← y + x, element by element (a residual connection).
    public static func add(_ x: Tensor, into y: inout Tensor) {
        precondition(y.shape == x.shape, "add: \(x.shape) into \(y.shape)")
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                forEachVectorRange(xp.count) { r in for i in r { yp[i] += xp[i] } }
            }
        }
    }

    /// In place over `count` floats (the decode step's rows).
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int) { mapInPlace(x, count: count, vsilu) }
    public static func softplus(_ x: UnsafeMutablePointer<Float>, count: Int) { mapInPlace(x, count: count, vsoftplus) }

    /// y[i] ← y[i] · SiLU(z[i]) for `count` floats, 16 at a time (the tail padded).
    public static func gate(_ y: UnsafeMutablePointer<Float>, by z: UnsafePointer<Float>, count n: Int) {
        var i = 0
        while i < n {
            let width = Swift.min(16, n - i)
            vstore(vload(y + i, width) * vsilu(vload(z + i, width)), y + i, width)
            i += 16
        }
    }

    // Slow twins (scalar Foundation math), the reference the fast paths are tested against.
    public static func siluReference(_ x: Float) -> Float { x / (1 + Foundation.exp(-x)) }
    public static func softplusReference(_ x: Float) -> Float { x > 20 ? x : Foundation.log1p(Foundation.exp(x)) }
}
