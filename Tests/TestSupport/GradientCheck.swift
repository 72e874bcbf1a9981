import XCTest
import Foundation
import TensorCore

/// Finite-difference checking. Every op's forward is written again here in Double ("literal" twins of
/// the ops' `reference` functions, tied to them by `testDoubleForwardsAgreeWithReferences`), and the scalar
/// loss is Σ output ⊙ weights with fixed random weights, so ∂loss/∂output = weights is the dy fed to the
/// Float32 backward. Central differences in Double with step h = 1e-5: truncation error h²·f‴/6 ≈ 1e-11
/// and cancellation ε·|loss|/h ≈ 1e-11·|loss|, both far below the Float32 rounding of the analytic
/// gradient, so the measured difference is the backward's own error.
public enum GradientCheck {
    public static let step = 1e-5

    /// Largest |analytic − numeric| over all elements, and the largest |numeric| (the gradient's scale).
    public static func compare(_ values: [Double], analytic: Tensor, loss: ([Double]) -> Double) -> (absolute: Double, scale: Double) {
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
    public static func check(_ label: String, _ values: [Double], analytic: Tensor, relative: Double = 1e-4, absolute: Double = 1e-6,
                             file: StaticString = #filePath, line: UInt = #line, loss: ([Double]) -> Double) {
        let (worst, scale) = compare(values, analytic: analytic, loss: loss)
        let bound = relative * scale + absolute
        print("\(label): max |analytic − finite difference| = \(worst), gradient scale \(scale) (tolerance \(bound))")
        XCTAssertLessThanOrEqual(worst, bound, label, file: file, line: line)
    }

    public static func doubles(_ t: Tensor) -> [Double] { t.data.map(Double.init) }

    public static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in 0..<a.count { s += a[i] * b[i] }
        return s
    }
}

extension GradientCheck {
    /// Checks every input of a function of several in turn, the others fixed: `inputs[k]` against `analytic[k]`
    /// (named "<label> <name>").
    public static func checkEach(_ label: String, _ inputs: [[Double]], analytic: [(String, Tensor)],
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
