import XCTest
import Foundation
import TensorCore
import TestSupport

/// The backwards of Llama's attention ops against central finite differences of Double forwards (see
/// GradientCheck; tolerance max |Δ| ≤ 1e-4·scale + 1e-6, the reasoning of OpBackwardTests: Float32 sums of a
/// few dozen terms are off by ~1e-6 of the scale, a wrong term by the order of the gradient).
final class AttentionBackwardTests: XCTestCase {
    /// RoPE is a rotation per pair: its backward rotates back. Positions up to 6 with frequencies up to 1 turn
    /// the pairs by several radians, so a sign or pairing error (i with i + 1 instead of i + P/2) shows.
    func testRotaryEmbedding() {
        let (l, heads, p) = (7, 3, 8)
        let frequencies: [Float] = [1, 0.37, 0.11, 0.02]
        let x = TestInputs.normal([l, heads * p], seed: 61), dy = TestInputs.normal([l, heads * p], seed: 62)
        var dx = dy
        RotaryEmbedding.backward(&dx, heads: heads, firstPosition: 0, inverseFrequencies: frequencies)
        let g = GradientCheck.doubles(dy)
        GradientCheck.check("RotaryEmbedding dx", GradientCheck.doubles(x), analytic: dx) {
            GradientCheck.dot(DoubleOps.rotary($0, rows: l, heads: heads, inverseFrequencies: frequencies), g)
        }
    }

    /// MHA, GQA and MQA: dQ, dK, dV of `CausalAttention.backward`, and its forward against the Double one.
    func testCausalAttention() {
        for (l, heads, g, p) in [(6, 2, 2, 4), (7, 4, 2, 3), (5, 3, 1, 4)] {
            let q = TestInputs.normal([l, heads * p], seed: 71), k = TestInputs.normal([l, g * p], seed: 72)
            let v = TestInputs.normal([l, g * p], seed: 73), dy = TestInputs.normal([l, heads * p], seed: 74)
            let label = "CausalAttention H \(heads) G \(g)"
            let (qd, kd, vd, gd) = (GradientCheck.doubles(q), GradientCheck.doubles(k), GradientCheck.doubles(v), GradientCheck.doubles(dy))
            let forward = CausalAttention.forward(queries: q, keys: k, values: v, heads: heads)
            let expected = DoubleOps.causalAttention(qd, kd, vd, rows: l, heads: heads, keyValueHeads: g)
            let d = zip(forward.data, expected).map { abs(Double($0) - $1) }.max()!
            print("\(label) forward vs Double: max |Δ| = \(d) (tolerance 1e-5)")
            XCTAssertLessThanOrEqual(d, 1e-5, label)
            let (dq, dk, dv) = CausalAttention.backward(queries: q, keys: k, values: v, heads: heads, outputGradient: dy)
            GradientCheck.checkEach(label, [qd, kd, vd], analytic: [("dQ", dq), ("dK", dk), ("dV", dv)]) { inputs in
                GradientCheck.dot(DoubleOps.causalAttention(inputs[0], inputs[1], inputs[2], rows: l, heads: heads, keyValueHeads: g), gd)
            }
        }
    }
}
