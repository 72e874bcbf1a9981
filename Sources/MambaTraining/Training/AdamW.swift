import Foundation
import TensorCore

/// AdamW exactly as `torch.optim.AdamW` (foreach=False, amsgrad=False, maximize=False), per parameter θ
/// with gradient g at step t (1-based):
///   θ ← θ·(1 − lr·λ)                       decoupled weight decay (only where `decays(name)`)
///   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
///   θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
/// Arithmetic in Float as PyTorch's float32 tensors; the scalar factors in Double as Python floats.
public struct AdamW: Sendable {
    public var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    public var weightDecay: Double

    public init(weightDecay: Double) { self.weightDecay = weightDecay }

    /// First and second moments by parameter name, and the number of steps taken.
    public struct State: Sendable, Equatable {
        public var firstMoment: NamedTensors = [:]
        public var secondMoment: NamedTensors = [:]
        public var step = 0
        public init() {}
    }

    /// No decay for norms, A_log, D and anything named a bias (transformers' Trainer rule: "bias" anywhere in
    /// the name, so also dt_bias and ReMamba's ret_bias.param): decay would pull them towards 0, which means
    /// something else for each (a norm scale of 0, a decay rate of 1, no skip connection, no offset).
    public static func decays(_ name: String) -> Bool {
        let last = name.split(separator: ".").last.map(String.init) ?? name
        return !(name.contains("bias") || name.contains("norm") || last == "A_log" || last == "D")
    }

    /// One step at learning rate `lr` over every parameter that has a gradient.
    public func update(_ parameters: inout NamedTensors, gradients: NamedTensors, state: inout State, lr: Double) {
        state.step += 1
        let t = Double(state.step)
        let biasCorrection1 = 1 - Foundation.pow(beta1, t)
        let biasCorrection2Root = (1 - Foundation.pow(beta2, t)).squareRoot()
        let stepSize = Float(lr / biasCorrection1)
        let (b2, eps) = (Float(beta2), Float(epsilon))
        let (w1, w2) = (Float(1 - beta1), Float(1 - beta2))
        for name in gradients.keys.sorted() {
            let g = gradients[name]!
            // Taken out of the dictionaries while updated, so the buffers are not copied.
            guard var p = parameters.removeValue(forKey: name) else { preconditionFailure("AdamW: gradient of unknown parameter \(name)") }
            var m = state.firstMoment.removeValue(forKey: name) ?? Tensor(zeros: g.shape)
            var v = state.secondMoment.removeValue(forKey: name) ?? Tensor(zeros: g.shape)
            let decay = Self.decays(name) ? Float(1 - lr * weightDecay) : 1
            let root2 = Float(biasCorrection2Root)
            p.data.withUnsafeMutableBufferPointer { p in
                m.data.withUnsafeMutableBufferPointer { m in
                    v.data.withUnsafeMutableBufferPointer { v in
                        g.data.withUnsafeBufferPointer { g in
                            for i in 0..<p.count {
                                if decay != 1 { p[i] *= decay }
                                m[i] += w1 * (g[i] - m[i])              // torch: exp_avg.lerp_(grad, 1 − β1)
                                v[i] = v[i] * b2 + w2 * g[i] * g[i]      // exp_avg_sq.mul_(β2).addcmul_(g, g, 1 − β2)
                                let denominator = v[i].squareRoot() / root2 + eps
                                p[i] -= stepSize * (m[i] / denominator)
                            }
                        }
                    }
                }
            }
            parameters[name] = p
            state.firstMoment[name] = m
            state.secondMoment[name] = v
        }
    }
}
