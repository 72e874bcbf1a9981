import XCTest
import TensorCore
import TestSupport

/// SelectiveScan: the 16-lane kernel against the literal Double recurrence, with channel counts
/// that fill and do not fill the lanes, state carried across calls, and thread counts.
final class SelectiveScanTests: XCTestCase {
    // Float32 kernel vs Double reference over L = 40 steps: each step rounds h (one exp with ~2 ulp,
    // one multiply-add) and the decay |Ā| < 1 keeps errors from growing past ~L·2⁻²⁴·|h| ≈ 3e-6;
    // y sums N terms more. 1e-5 of the largest output.
    static let tolerance: Float = 1e-5

    typealias Inputs = ScanProblem

    func run(_ i: Inputs, rows: Range<Int>? = nil, state: inout Tensor) -> Tensor {
        let r = rows ?? 0..<i.x.rows
        return SelectiveScan.forward(x: i.x.rows(r), delta: i.delta.rows(r), A: i.A, B: i.B.rows(r), C: i.C.rows(r),
                                     D: i.D, state: &state)
    }

    func testForwardAgreesWithReference() {
        for e in [1, 16, 37, 128] {
            for n in [1, 4, 16] {
                let i = Inputs.selectiveScan(length: 40, channels: e, states: n, seed: UInt64(e * 100 + n))
                var fastState = i.state, slowState = i.state
                let fast = run(i, state: &fastState)
                let slow = SelectiveScan.reference(x: i.x, delta: i.delta, A: i.A, B: i.B, C: i.C, D: i.D, state: &slowState)
                assertAgree(fast, slow, relativeTolerance: Self.tolerance, "SelectiveScan E=\(e) N=\(n) y")
                assertAgree(fastState, slowState, relativeTolerance: Self.tolerance, "SelectiveScan E=\(e) N=\(n) state")
            }
        }
    }

    /// Calls of 1, 3, 17 and 19 steps carry h exactly as one call of 40 does.
    func testStateCarriedAcrossSplitCalls() {
        for (e, n) in [(16, 4), (37, 16), (128, 1)] {
            let i = Inputs.selectiveScan(length: 40, channels: e, states: n, seed: 900)
            var wholeState = i.state
            let whole = run(i, state: &wholeState)
            var splitState = i.state
            var parts: [Tensor] = []
            var begin = 0
            for length in [1, 3, 17, 19] {
                parts.append(run(i, rows: begin..<(begin + length), state: &splitState))
                begin += length
            }
            assertIdentical(Tensor.concatenateRows(parts), whole, "SelectiveScan E=\(e) N=\(n) split 1+3+17+19 vs 40")
            assertIdentical(splitState, wholeState, "SelectiveScan E=\(e) N=\(n) state split vs whole")
        }
    }

    /// Decoding feeds one position per call (16 channels at a time when N = 16, one channel at a time for the
    /// rest): 40 such calls carry h and give y exactly as one call of 40 does.
    func testOnePositionPerCallEqualsOneCall() {
        for (e, n) in [(53, 16), (32, 16), (16, 4), (5, 16)] {
            let i = Inputs.selectiveScan(length: 40, channels: e, states: n, seed: 901)
            var wholeState = i.state
            let whole = run(i, state: &wholeState)
            var stepState = i.state
            let steps = (0..<40).map { run(i, rows: $0..<($0 + 1), state: &stepState) }
            assertIdentical(Tensor.concatenateRows(steps), whole, "SelectiveScan E=\(e) N=\(n) 40 steps vs one call")
            assertIdentical(stepState, wholeState, "SelectiveScan E=\(e) N=\(n) state after 40 steps vs one call")
        }
    }

    /// Blocks of 16 channels go to different threads; each channel's arithmetic is the same.
    func testThreadCountDoesNotChangeResult() {
        for e in [37, 128] {
            let i = Inputs.selectiveScan(length: 25, channels: e, states: 16, seed: 31)
            var s1 = i.state, s2 = i.state
            let one = withThreads(1) { run(i, state: &s1) }
            let two = withThreads(2) { run(i, state: &s2) }
            assertIdentical(two, one, "SelectiveScan E=\(e) threads 2 vs 1")
            assertIdentical(s2, s1, "SelectiveScan E=\(e) threads 2 vs 1 state")
        }
    }

    /// With Δ = 0 nothing enters or decays: h is unchanged and y = D·x.
    func testZeroStepKeepsStateAndSkipsThrough() {
        var i = Inputs.selectiveScan(length: 5, channels: 20, states: 4, seed: 41)
        i.delta = Tensor(zeros: i.delta.shape)
        var state = i.state
        let y = run(i, state: &state)
        XCTAssertEqual(state, i.state)
        for t in 0..<5 {
            for c in 0..<20 {
                let h = (0..<4).reduce(Float(0)) { $0 + i.state.data[c * 4 + $1] * i.C.data[t * 4 + $1] }
                XCTAssertEqual(y.data[t * 20 + c], i.D.data[c] * i.x.data[t * 20 + c] + h, accuracy: 1e-5)
            }
        }
    }
}
