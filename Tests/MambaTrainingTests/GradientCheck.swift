import XCTest
import Foundation
@testable import MambaTraining
import TensorCore

/// Finite-difference checking. Every op's forward is written again here in Double ("literal" twins of
/// the ops' `reference` functions, tied to them by `testDoubleForwardsAgreeWithReferences`), and the scalar
/// loss is Σ output ⊙ weights with fixed random weights, so ∂loss/∂output = weights is the dy fed to the
/// Float32 backward. Central differences in Double with step h = 1e-5: truncation error h²·f‴/6 ≈ 1e-11
/// and cancellation ε·|loss|/h ≈ 1e-11·|loss|, both far below the Float32 rounding of the analytic
/// gradient, so the measured difference is the backward's own error.
enum GradientCheck {
    static let step = 1e-5

    /// Largest |analytic − numeric| over all elements, and the largest |numeric| (the gradient's scale).
    static func compare(_ values: [Double], analytic: Tensor, loss: ([Double]) -> Double) -> (absolute: Double, scale: Double) {
        precondition(values.count == analytic.count)
        var worst = 0.0, scale = 0.0
        var v = values
        for i in 0..<v.count {
            let saved = v[i]
            v[i] = saved + step
            let plus = loss(v)
            v[i] = saved - step
            let minus = loss(v)
            v[i] = saved
            let numeric = (plus - minus) / (2 * step)
            worst = max(worst, abs(numeric - Double(analytic.data[i])))
            scale = max(scale, abs(numeric))
        }
        return (worst, scale)
    }

    /// Checks and prints max |Δ| ≤ relative·scale + absolute.
    static func check(_ label: String, _ values: [Double], analytic: Tensor, relative: Double = 1e-4, absolute: Double = 1e-6,
                      file: StaticString = #filePath, line: UInt = #line, loss: ([Double]) -> Double) {
        let (worst, scale) = compare(values, analytic: analytic, loss: loss)
        let bound = relative * scale + absolute
        print("\(label): max |analytic − finite difference| = \(worst), gradient scale \(scale) (tolerance \(bound))")
        XCTAssertLessThanOrEqual(worst, bound, label, file: file, line: line)
    }

    static func doubles(_ t: Tensor) -> [Double] { t.data.map(Double.init) }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in 0..<a.count { s += a[i] * b[i] }
        return s
    }
}

/// The ops of TensorCore in Double, written literally (row-major, same shapes as the Float ops).
enum DoubleOps {
    static func linear(_ x: [Double], _ w: [Double], _ b: [Double]?, rows l: Int, inFeatures: Int, outFeatures: Int) -> [Double] {
        var y = [Double](repeating: 0, count: l * outFeatures)
        for t in 0..<l {
            for o in 0..<outFeatures {
                var s = b?[o] ?? 0
                for i in 0..<inFeatures { s += x[t * inFeatures + i] * w[o * inFeatures + i] }
                y[t * outFeatures + o] = s
            }
        }
        return y
    }

    static func rmsNorm(_ x: [Double], _ w: [Double], epsilon: Double, rows l: Int) -> [Double] {
        let d = w.count
        var y = x
        for t in 0..<l {
            var s = 0.0
            for i in 0..<d { s += x[t * d + i] * x[t * d + i] }
            let r = 1 / (s / Double(d) + epsilon).squareRoot()
            for i in 0..<d { y[t * d + i] = x[t * d + i] * r * w[i] }
        }
        return y
    }

    /// state [E, k]: the last k inputs before x (column k−1 the newest), as CausalConv1d.
    static func conv(_ x: [Double], _ w: [Double], _ b: [Double]?, state: [Double], rows l: Int, channels e: Int, kernel k: Int) -> [Double] {
        var y = [Double](repeating: 0, count: l * e)
        for c in 0..<e {
            var sequence = (0..<k).map { state[c * k + $0] }
            sequence.append(contentsOf: (0..<l).map { x[$0 * e + c] })
            for t in 0..<l {
                var s = b?[c] ?? 0
                for j in 0..<k { s += w[c * k + j] * sequence[t + 1 + j] }
                y[t * e + c] = s
            }
        }
        return y
    }

    static func silu(_ x: Double) -> Double { x / (1 + exp(-x)) }
    static func softplus(_ x: Double) -> Double { x > 20 ? x : log1p(exp(x)) }

    static func scan(x: [Double], delta: [Double], A: [Double], B: [Double], C: [Double], D: [Double], state: [Double],
                     rows l: Int, channels e: Int, states n: Int) -> [Double] {
        var y = [Double](repeating: 0, count: l * e)
        for c in 0..<e {
            var h = (0..<n).map { state[c * n + $0] }
            for t in 0..<l {
                let dt = delta[t * e + c], xv = x[t * e + c]
                var out = D[c] * xv
                for s in 0..<n {
                    h[s] = exp(dt * A[c * n + s]) * h[s] + dt * xv * B[t * n + s]
                    out += h[s] * C[t * n + s]
                }
                y[t * e + c] = out
            }
        }
        return y
    }
}

enum Random {
    static func normal(_ shape: [Int], std: Float = 1, seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor.randomNormal(shape, std: std, generator: &generator)
    }
}

extension GradientCheck {
    /// Checks every input of a function of several in turn, the others fixed: `inputs[k]` against `analytic[k]`
    /// (named "<label> <name>").
    static func checkEach(_ label: String, _ inputs: [[Double]], analytic: [(String, Tensor)],
                          file: StaticString = #filePath, line: UInt = #line, loss: ([[Double]]) -> Double) {
        for (index, (name, gradient)) in analytic.enumerated() {
            check("\(label) \(name)", inputs[index], analytic: gradient, file: file, line: line) { value in
                var v = inputs
                v[index] = value
                return loss(v)
            }
        }
    }
}

/// A scan problem (`SelectiveScan`, and with `groups` `StateSpaceDuality`): the kernel's inputs, an initial
/// state and an output gradient dy.
struct ScanProblem {
    var x, delta, A, B, C, D, state, dy: Tensor
    var groups = 1

    var inputs: ScanInputs { ScanInputs(x: x, delta: delta, A: A, B: B, C: C, D: D) }
}

extension ScanGradients {
    var all: [(String, Tensor)] { [("dx", x), ("dΔ", delta), ("dA", A), ("dB", B), ("dC", C), ("dD", D), ("dh0", initialState)] }
}

extension GradientCheck {
    /// An objective's `gradients` at `p` against central differences of its (Float32) loss along a random
    /// direction D per tensor, in name order: (L(θ + hD) − L(θ − hD)) / 2h ≈ ⟨∇L, D⟩ with h = 1e-3. Returns
    /// the worst |numeric − analytic| / max(1, |analytic|). Every loss is taken with the objective's generator
    /// seeded `objectiveSeed`, as `g` was (so ReMamba's plan and LoRA's dropout masks stay the same).
    static func worstDirectionalDifference(_ objective: any TrainingObjective, _ p: NamedTensors, gradients g: NamedTensors,
                                           example: TrainingExample, objectiveSeed: UInt64 = 0,
                                           directions generator: inout SeededGenerator) -> Double {
        var worst = 0.0
        for name in p.keys.sorted() {
            let direction = Tensor.randomNormal(p[name]!.shape, generator: &generator)
            let h: Float = 1e-3
            func loss(_ sign: Float) -> Double {
                var q = p
                for i in 0..<direction.count { q[name]!.data[i] += sign * h * direction.data[i] }
                var objectiveGenerator = SeededGenerator(seed: objectiveSeed)
                return objective.lossAndGradients(q, example: example, generator: &objectiveGenerator).loss
            }
            let numeric = (loss(1) - loss(-1)) / Double(2 * h)
            let analytic = zip(g[name]!.data, direction.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            worst = max(worst, abs(numeric - analytic) / max(1, abs(analytic)))
        }
        return worst
    }
}
