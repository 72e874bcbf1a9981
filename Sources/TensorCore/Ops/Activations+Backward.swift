import Foundation

/// Backward of the element-wise activations, accumulating (+=) into the input gradient. Each takes the
/// forward's input (not its output), as the forward overwrote it in place.
extension Activations {
    /// SiLU'(x) = σ(x) · (1 + x·(1 − σ(x))).
    public static func siluBackward(_ x: Tensor, outputGradient dy: Tensor, inputGradient dx: inout Tensor) {
        precondition(x.shape == dy.shape && dx.shape == x.shape, "siluBackward: \(x.shape), \(dy.shape), \(dx.shape)")
        for i in 0..<x.count { dx.data[i] += dy.data[i] * siluDerivative(x.data[i]) }
    }

    /// softplus'(x) = σ(x) (also past the threshold 20, where it is 1 to within 2e-9).
    public static func softplusBackward(_ x: Tensor, outputGradient dy: Tensor, inputGradient dx: inout Tensor) {
        precondition(x.shape == dy.shape && dx.shape == x.shape, "softplusBackward: \(x.shape), \(dy.shape), \(dx.shape)")
        for i in 0..<x.count { dx.data[i] += dy.data[i] / (1 + Foundation.exp(-x.data[i])) }
    }

    /// The gate out = y ⊙ SiLU(z): dy += dout ⊙ SiLU(z), dz += dout ⊙ y ⊙ SiLU'(z).
    public static func gateBackward(_ y: Tensor, by z: Tensor, outputGradient dout: Tensor,
                                    inputGradient dy: inout Tensor, gateGradient dz: inout Tensor) {
        precondition(y.shape == z.shape && dout.shape == y.shape && dy.shape == y.shape && dz.shape == z.shape,
                     "gateBackward: shapes do not agree")
        for i in 0..<y.count {
            let zi = z.data[i], s = 1 / (1 + Foundation.exp(-zi))
            dy.data[i] += dout.data[i] * zi * s
            dz.data[i] += dout.data[i] * y.data[i] * s * (1 + zi * (1 - s))
        }
    }

    @inline(__always)
    static func siluDerivative(_ x: Float) -> Float {
        let s = 1 / (1 + Foundation.exp(-x))
        return s * (1 + x * (1 - s))
    }
}
