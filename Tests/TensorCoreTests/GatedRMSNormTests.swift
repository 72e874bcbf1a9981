import XCTest
import TensorCore
import TestSupport

/// GatedRMSNorm against its Double twin, both gate orders, one group and several; and the grouping
/// itself: with one group per row it must be the plain RMSNorm of y ⊙ SiLU(z).
final class GatedRMSNormTests: XCTestCase {
    // Float32 sums of ≤ 48 squares and one rsqrt per group: ~1e-6 relative.
    static let tolerance: Float = 1e-5

    func testForwardAgreesWithReference() {
        let (l, e) = (9, 48)
        let y = TestInputs.normal([l, e], seed: 1), z = TestInputs.normal([l, e], seed: 2)
        let w = TestInputs.uniform([e], in: 0.5...1.5, seed: 3)
        for groupSize in [48, 24, 8] {
            for before in [false, true] {
                let fast = GatedRMSNorm.forward(y, gate: z, weight: w, groupSize: groupSize, epsilon: 1e-5, normBeforeGate: before)
                let slow = GatedRMSNorm.reference(y, gate: z, weight: w, groupSize: groupSize, epsilon: 1e-5, normBeforeGate: before)
                assertAgree(fast, slow, relativeTolerance: Self.tolerance, "GatedRMSNorm group \(groupSize) normBeforeGate \(before)")
            }
        }
    }

    func testOneGroupIsRMSNormOfGatedInput() {
        let y = TestInputs.normal([5, 32], seed: 4), z = TestInputs.normal([5, 32], seed: 5)
        let w = TestInputs.uniform([32], in: 0.5...1.5, seed: 6)
        var gated = y
        Activations.gate(&gated, by: z)
        let expected = RMSNorm.forward(gated, weight: w, epsilon: 1e-6)
        let got = GatedRMSNorm.forward(y, gate: z, weight: w, groupSize: 32, epsilon: 1e-6, normBeforeGate: false)
        assertAgree(got, expected, relativeTolerance: Self.tolerance, "GatedRMSNorm one group vs RMSNorm(y·SiLU(z))")
    }
}
