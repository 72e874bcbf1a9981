import XCTest
import TensorCore
import TestSupport

/// CausalConv1d: the fast kernel against the channel-by-channel twin, and the rolling `state`:
/// a sequence cut into pieces must give exactly what one call gives.
final class CausalConv1dTests: XCTestCase {
    // Both paths are Float32 and add the same k products to the bias in the same order, so they
    // should agree to the last bit; 1e-6 relative allows a compiler that fuses multiply-adds.
    static let tolerance: Float = 1e-6

    func inputs(channels e: Int, kernel k: Int, seed: UInt64) -> (weight: Tensor, bias: Tensor, state: Tensor) {
        (TestInputs.normal([e, k], std: 0.5, seed: seed), TestInputs.normal([e], seed: seed + 1),
         TestInputs.normal([e, k], seed: seed + 2))
    }

    func testForwardAgreesWithReference() {
        var worst = WorstCase("CausalConv1d vs reference", relativeTolerance: Self.tolerance)
        defer { worst.report() }
        for k in [1, 2, 4] {
            for e in [5, 37, 128] {
                let (weight, bias, initial) = inputs(channels: e, kernel: k, seed: UInt64(k * 1000 + e))
                for l in [1, 2, 3, 17, 100] {
                    let x = TestInputs.normal([l, e], seed: UInt64(l))
                    for b in [nil, bias] {
                        var fastState = initial, slowState = initial
                        let fast = CausalConv1d.forward(x, weight: weight, bias: b, state: &fastState)
                        let slow = CausalConv1d.reference(x, weight: weight, bias: b, state: &slowState)
                        let label = "k=\(k) E=\(e) L=\(l) bias=\(b != nil)"
                        worst.check(fast, slow, label)
                        assertIdentical(fastState, slowState, "CausalConv1d \(label) state", printing: false)
                    }
                }
            }
        }
    }

    /// Pieces of 1, 3 and 17 tokens (two shorter than the kernel) carry the state like one call of 21.
    func testStateCarriedAcrossPiecesEqualsOneCall() {
        for k in [2, 4] {
            let e = 37
            let (weight, bias, initial) = inputs(channels: e, kernel: k, seed: 77)
            let x = TestInputs.normal([21, e], seed: 78)
            var wholeState = initial
            let whole = CausalConv1d.forward(x, weight: weight, bias: bias, state: &wholeState)
            var pieceState = initial
            var pieces: [Tensor] = []
            var begin = 0
            for length in [1, 3, 17] {
                pieces.append(CausalConv1d.forward(x.rows(begin..<(begin + length)), weight: weight, bias: bias, state: &pieceState))
                begin += length
            }
            assertIdentical(Tensor.concatenateRows(pieces), whole, "CausalConv1d k=\(k) pieces 1+3+17 vs 21")
            assertIdentical(pieceState, wholeState, "CausalConv1d k=\(k) state after pieces vs one call")
        }
    }

    /// Decoding feeds one position per call (the window is the state itself): 21 such calls, with and without
    /// a bias, equal one call of 21.
    func testOnePositionPerCallEqualsOneCall() {
        for (k, withBias) in [(4, true), (4, false), (2, true)] {
            let e = 37
            let (weight, b, initial) = inputs(channels: e, kernel: k, seed: 79)
            let bias = withBias ? b : nil
            let x = TestInputs.normal([21, e], seed: 80)
            var wholeState = initial
            let whole = CausalConv1d.forward(x, weight: weight, bias: bias, state: &wholeState)
            var stepState = initial
            let steps = (0..<21).map { CausalConv1d.forward(x.rows($0..<($0 + 1)), weight: weight, bias: bias, state: &stepState) }
            assertIdentical(Tensor.concatenateRows(steps), whole, "CausalConv1d k=\(k) bias \(withBias): 21 steps vs one call")
            assertIdentical(stepState, wholeState, "CausalConv1d k=\(k) bias \(withBias): state after steps vs one call")
        }
    }

    /// L = 2 < k = 4: the new state is the old one shifted left by two, then the two inputs.
    func testShorterThanKernelShiftsState() {
        let (e, k) = (3, 4)
        let (weight, bias, initial) = inputs(channels: e, kernel: k, seed: 5)
        let x = TestInputs.normal([2, e], seed: 6)
        var state = initial
        _ = CausalConv1d.forward(x, weight: weight, bias: bias, state: &state)
        for c in 0..<e {
            let expected = [initial.data[c * k + 2], initial.data[c * k + 3], x.data[c], x.data[e + c]]
            XCTAssertEqual(Array(state.data[(c * k)..<((c + 1) * k)]), expected, "channel \(c)")
        }
    }

    func testEmptyInputLeavesStateAlone() {
        let (weight, bias, initial) = inputs(channels: 8, kernel: 4, seed: 9)
        var state = initial
        let y = CausalConv1d.forward(Tensor(zeros: [0, 8]), weight: weight, bias: bias, state: &state)
        XCTAssertEqual(y.shape, [0, 8])
        XCTAssertEqual(state, initial)
    }

    /// The kernel splits time steps across threads (granularity 64): 1 and 2 threads agree bit for bit.
    func testThreadCountDoesNotChangeResult() {
        let e = 40
        let (weight, bias, initial) = inputs(channels: e, kernel: 4, seed: 21)
        let x = TestInputs.normal([300, e], seed: 22)
        var s1 = initial, s2 = initial
        let one = withThreads(1) { CausalConv1d.forward(x, weight: weight, bias: bias, state: &s1) }
        let two = withThreads(2) { CausalConv1d.forward(x, weight: weight, bias: bias, state: &s2) }
        assertIdentical(two, one, "CausalConv1d threads 2 vs 1")
        assertIdentical(s2, s1, "CausalConv1d threads 2 vs 1 state")
    }
}
