import Foundation
import TensorCore

/// `torch.nn.utils.clip_grad_norm_(parameters, maxNorm)` (norm_type 2): the global norm is the 2-norm of the
/// per-tensor 2-norms; every gradient is scaled by min(1, maxNorm / (norm + 1e-6)). Returns the norm
/// before clipping.
public enum GradientClipping {
    @discardableResult
    public static func clip(_ gradients: inout NamedTensors, maxNorm: Double) -> Double {
        let norm = globalNorm(gradients)
        let coefficient = Float(min(1, maxNorm / (norm + 1e-6)))
        if coefficient < 1 {
            for name in gradients.keys {
                gradients[name]!.data.withUnsafeMutableBufferPointer { g in for i in 0..<g.count { g[i] *= coefficient } }
            }
        }
        return norm
    }

    public static func globalNorm(_ gradients: NamedTensors) -> Double {
        var total = 0.0
        for name in gradients.keys.sorted() {
            let squares = gradients[name]!.data.withUnsafeBufferPointer { g in
                var sum = 0.0
                for x in g { sum += Double(x) * Double(x) }
                return sum
            }
            total += squares
        }
        return total.squareRoot()
    }
}
