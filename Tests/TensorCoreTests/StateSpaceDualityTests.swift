import XCTest
import TensorCore
import TestSupport

/// StateSpaceDuality: chunked SSD (matrix products inside chunks, state passed between them) against
/// the sequential recurrence, over lengths that are and are not multiples of the chunk size, groups
/// shared by several heads, a non-zero incoming state, split calls and thread counts.
/// Legend: L length, H heads, P head_dim, G groups, N d_state, Q chunk_size.
final class StateSpaceDualityTests: XCTestCase {
    // Both sides are Float32. The chunked form sums the same terms in another order (GEMMs of up to Q
    // products, decays as exp of segment sums instead of products of per-step decays): a few ulp per
    // term, well under 1e-5 of the largest output for L ≤ 100.
    static let tolerance: Float = 1e-5

    /// Made by `ScanProblem.stateSpaceDuality` with deltaShift −1: Δ = softplus(N(0,1) − 1), mostly 0.1 … 1.
    typealias Inputs = ScanProblem

    func chunked(_ i: Inputs, rows: Range<Int>? = nil, chunkSize: Int, state: inout Tensor) -> Tensor {
        let r = rows ?? 0..<i.x.rows
        return StateSpaceDuality.chunked(x: i.x.rows(r), delta: i.delta.rows(r), A: i.A, B: i.B.rows(r), C: i.C.rows(r),
                                         D: i.D, groups: i.groups, chunkSize: chunkSize, state: &state)
    }

    func sequential(_ i: Inputs, rows: Range<Int>? = nil, state: inout Tensor) -> Tensor {
        let r = rows ?? 0..<i.x.rows
        return StateSpaceDuality.sequential(x: i.x.rows(r), delta: i.delta.rows(r), A: i.A, B: i.B.rows(r), C: i.C.rows(r),
                                            D: i.D, groups: i.groups, state: &state)
    }

    func testChunkedAgreesWithSequential() {
        // (L, H, P, G, N, Q): L = 1, L < Q, L = Q, L a multiple of Q, L not a multiple of Q.
        let cases = [(1, 4, 8, 1, 16, 16), (7, 4, 8, 2, 8, 16), (16, 8, 4, 4, 5, 16), (64, 8, 16, 1, 16, 16),
                     (100, 12, 8, 2, 8, 16), (100, 6, 3, 3, 7, 32), (37, 2, 5, 1, 3, 1)]
        for (l, h, p, g, n, q) in cases {
            let i = Inputs.stateSpaceDuality(length: l, heads: h, headDim: p, groups: g, states: n, seed: UInt64(l * 1000 + h * 10 + g), deltaShift: -1)
            var fastState = i.state, slowState = i.state
            let fast = chunked(i, chunkSize: q, state: &fastState)
            let slow = sequential(i, state: &slowState)
            let label = "SSD L=\(l) H=\(h) P=\(p) G=\(g) N=\(n) Q=\(q)"
            assertAgree(fast, slow, relativeTolerance: Self.tolerance, "\(label) y")
            assertAgree(fastState, slowState, relativeTolerance: Self.tolerance, "\(label) state")
        }
    }

    /// Prefill in pieces (5 + 30 + 65) carries the state like one call of 100; chunk boundaries move,
    /// so the arithmetic differs and the chunked tolerance applies.
    func testChunkedStateCarriedAcrossSplitCalls() {
        let i = Inputs.stateSpaceDuality(length: 100, heads: 6, headDim: 4, groups: 2, states: 8, seed: 77, deltaShift: -1)
        var wholeState = i.state
        let whole = chunked(i, chunkSize: 16, state: &wholeState)
        var splitState = i.state
        var parts: [Tensor] = []
        var begin = 0
        for length in [5, 30, 65] {
            parts.append(chunked(i, rows: begin..<(begin + length), chunkSize: 16, state: &splitState))
            begin += length
        }
        assertAgree(Tensor.concatenateRows(parts), whole, relativeTolerance: Self.tolerance, "SSD split 5+30+65 vs 100 y")
        assertAgree(splitState, wholeState, relativeTolerance: Self.tolerance, "SSD split 5+30+65 vs 100 state")
    }

    /// The one-token step (sequential with L = 1) repeated is the sequential scan, bit for bit.
    func testStepByStepIsSequential() {
        let i = Inputs.stateSpaceDuality(length: 40, heads: 4, headDim: 8, groups: 2, states: 16, seed: 5, deltaShift: -1)
        var wholeState = i.state
        let whole = sequential(i, state: &wholeState)
        var stepState = i.state
        let steps = (0..<40).map { sequential(i, rows: $0..<($0 + 1), state: &stepState) }
        assertIdentical(Tensor.concatenateRows(steps), whole, "SSD 40 steps vs sequential")
        assertIdentical(stepState, wholeState, "SSD 40 steps vs sequential state")
    }

    /// Heads are split between workers; each head's arithmetic does not depend on the split.
    func testThreadCountsGiveIdenticalResults() {
        let i = Inputs.stateSpaceDuality(length: 50, heads: 8, headDim: 4, groups: 2, states: 8, seed: 9, deltaShift: -1)
        var oneState = i.state, manyState = i.state
        let one = withThreads(1) { chunked(i, chunkSize: 16, state: &oneState) }
        let many = withThreads(4) { chunked(i, chunkSize: 16, state: &manyState) }
        assertIdentical(many, one, "SSD chunked 4 threads vs 1")
        assertIdentical(manyState, oneState, "SSD chunked state 4 threads vs 1")
    }
}
