import XCTest
import TensorCore
import TestSupport

/// Linear (BLAS gemm for L > 1, gemv for L = 1) against its three-loop Double twin.
final class LinearTests: XCTestCase {
    // Each output is a dot product of K = 173 products of N(0,1) values (|y| up to ~40). Float32
    // rounding in BLAS grows like √K·2⁻²⁴·Σ|xᵢwᵢ| ≈ 1e-6 of the output scale, K·2⁻²⁴ ≈ 1e-5 in the
    // worst case; the reference is exact to Float32 rounding. So 1e-5 of the largest output.
    static let tolerance: Float = 1e-5
    let (inFeatures, outFeatures) = (173, 61)

    func testGemmAndGemvAgreeWithReference() {
        let weight = TestInputs.normal([outFeatures, inFeatures], seed: 1)
        let bias = TestInputs.normal([outFeatures], seed: 2)
        for length in [1, 2, 7, 64] {
            let x = TestInputs.normal([length, inFeatures], seed: UInt64(10 + length))
            for b in [nil, bias] {
                let fast = Linear.forward(x, weight: weight, bias: b)
                let slow = Linear.reference(x, weight: weight, bias: b)
                assertAgree(fast, slow, relativeTolerance: Self.tolerance,
                            "Linear L=\(length) (\(length == 1 ? "gemv" : "gemm")) bias=\(b != nil)")
            }
        }
    }

    /// The decode path (gemv, one row at a time) against the prefill path (gemm, all rows).
    func testGemvRowsAgreeWithGemm() {
        let weight = TestInputs.normal([outFeatures, inFeatures], seed: 3)
        let bias = TestInputs.normal([outFeatures], seed: 4)
        let x = TestInputs.normal([9, inFeatures], seed: 5)
        for b in [nil, bias] {
            let gemm = Linear.forward(x, weight: weight, bias: b)
            let gemv = Tensor.concatenateRows((0..<x.rows).map { Linear.forward(x.rows($0..<($0 + 1)), weight: weight, bias: b) })
            assertAgree(gemv, gemm, relativeTolerance: Self.tolerance, "Linear gemv rows vs gemm, bias=\(b != nil)")
        }
    }

    func testVectorInputIsOneRow() {
        let weight = TestInputs.normal([outFeatures, inFeatures], seed: 6)
        let x = TestInputs.normal([inFeatures], seed: 7)
        let y = Linear.forward(x, weight: weight)
        XCTAssertEqual(y.shape, [1, outFeatures])
        assertAgree(y, Linear.reference(x, weight: weight), relativeTolerance: Self.tolerance, "Linear 1-D input")
    }

    /// The bias is added once, whichever path runs (gemm/gemv use beta = 1 on a bias-filled output).
    func testZeroWeightGivesBias() {
        let bias = TestInputs.normal([outFeatures], seed: 8)
        for length in [1, 3] {
            let y = Linear.forward(TestInputs.normal([length, inFeatures], seed: 9), weight: Tensor(zeros: [outFeatures, inFeatures]), bias: bias)
            for t in 0..<length { XCTAssertEqual(Array(y.row(t)), bias.data, "L=\(length) row \(t)") }
        }
    }
}
