import XCTest
import TensorCore
import TestSupport

/// RMSNorm against its Double twin, at ordinary, large and tiny input scales.
final class RMSNormTests: XCTestCase {
    // The fast path sums D ≤ 256 squares in Float32 (relative error ≲ √D·2⁻²⁴ ≈ 1e-6, worst D·2⁻²⁴
    // ≈ 1.5e-5, halved by the square root) and multiplies twice more per element; 1e-5 of the
    // largest output covers it.
    static let tolerance: Float = 1e-5

    func testForwardAgreesWithReference() {
        for d in [1, 37, 64, 256] {
            let weight = TestInputs.normal([d], seed: UInt64(d))
            for scale: Float in [1, 1e3, 1e-3] {
                let x = TestInputs.normal([5, d], std: scale, seed: UInt64(100 + d))
                assertAgree(RMSNorm.forward(x, weight: weight, epsilon: 1e-5), RMSNorm.reference(x, weight: weight, epsilon: 1e-5),
                            relativeTolerance: Self.tolerance, "RMSNorm D=\(d) scale=\(scale)")
            }
        }
    }

    /// With unit weight and ε → 0 every row has mean square 1; a zero row stays zero (ε keeps it finite).
    func testUnitRootMeanSquareAndZeroRow() {
        let d = 48
        var x = TestInputs.normal([3, d], std: 7, seed: 11)
        for i in 0..<d { x.data[2 * d + i] = 0 }
        let y = RMSNorm.forward(x, weight: Tensor(shape: [d], repeating: 1), epsilon: 1e-12)
        for t in 0..<2 {
            let meanSquare = y.row(t).reduce(0) { $0 + $1 * $1 } / Float(d)
            XCTAssertEqual(meanSquare, 1, accuracy: 1e-5, "row \(t)")
        }
        XCTAssertEqual(Array(y.row(2)), [Float](repeating: 0, count: d))
    }
}
