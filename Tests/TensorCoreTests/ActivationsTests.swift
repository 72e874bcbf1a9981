import XCTest
import TensorCore
import TestSupport

/// The vectorized activations against their scalar Foundation twins, over a wide range including
/// large ± values and softplus's threshold at 20.
final class ActivationsTests: XCTestCase {
    /// −100…100 in steps of 1/64, plus the edges (length not a multiple of 16, so the tail runs too).
    static let inputs: [Float] = stride(from: -100, through: 100, by: 1.0 / 64).map { Float($0) }
        + [-1e4, -1000, -88.7, -88.4, -87.4, -20.001, 20.001, 88.4, 88.7, 1000, 1e4, 1e-30, -1e-30, 0, -0.0]

    /// |fast − slow| ≤ relative·|slow| + absolute, reporting the worst ratio to that bound.
    func check(_ name: String, fast: [Float], slow: [Float], relative: Float, absolute: Float) {
        var worst: Float = 0, worstInput: Float = 0, maxDifference: Float = 0
        for (k, (f, s)) in zip(fast, slow).enumerated() {
            XCTAssertTrue(f.isFinite, "\(name)(\(Self.inputs[k])) = \(f)")
            let ratio = abs(f - s) / (relative * abs(s) + absolute)
            maxDifference = max(maxDifference, abs(f - s))
            if ratio > worst { (worst, worstInput) = (ratio, Self.inputs[k]) }
        }
        print("\(name): max |Δ| = \(maxDifference); worst |Δ| / (\(relative)·|ref| + \(absolute)) = \(worst) at x = \(worstInput) (tolerance 1)")
        XCTAssertLessThanOrEqual(worst, 1, name)
    }

    // SiLU: the fast exp has ~2 ulp and the division one more; 1e-6 relative (8 ulp). The absolute
    // 1e-30 only matters below x ≈ −88, where exp(−x) overflows Float: the reference gives −0 and the
    // fast path (exp clamped at 88.38) a value of order 1e-36.
    func testSiLUAgreesWithScalar() {
        var x = Tensor(shape: [Self.inputs.count], data: Self.inputs)
        Activations.silu(&x)
        check("silu", fast: x.data, slow: Self.inputs.map(Activations.siluReference), relative: 1e-6, absolute: 1e-30)
    }

    // Softplus: 1e-6 relative (a few ulp of exp and log). The reference switches to x past 20, where
    // the true value differs from x by e^−20 ≈ 2e-9 (below half an ulp of 20), hence no absolute slack.
    func testSoftplusAgreesWithScalar() {
        var x = Tensor(shape: [Self.inputs.count], data: Self.inputs)
        Activations.softplus(&x)
        check("softplus", fast: x.data, slow: Self.inputs.map(Activations.softplusReference), relative: 1e-6, absolute: 1e-37)
    }

    // gate: y · SiLU(z), same tolerance as SiLU.
    func testGateAgreesWithScalar() {
        let n = 1001
        var y = TestInputs.normal([n], std: 3, seed: 1)
        let z = TestInputs.uniform([n], in: -30...30, seed: 2)
        let expected = (0..<n).map { y.data[$0] * Activations.siluReference(z.data[$0]) }
        Activations.gate(&y, by: z)
        var worst: Float = 0
        for i in 0..<n { worst = max(worst, abs(y.data[i] - expected[i]) / (1e-6 * abs(expected[i]) + 1e-30)) }
        print("gate: worst |Δ| / (1e-6·|ref|) = \(worst) (tolerance 1)")
        XCTAssertLessThanOrEqual(worst, 1)
    }
}
