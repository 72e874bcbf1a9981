import XCTest
import Foundation
import TensorCore
import TestSupport

/// The selective scan's backward: against finite differences (every input, with a chunk that does not
/// divide L and channels that do not fill the 16 lanes), against its slow twin (all states kept, Double),
/// and independent of the checkpoint spacing.
final class SelectiveScanBackwardTests: XCTestCase {
    typealias Inputs = ScanProblem
    typealias Gradients = ScanGradients

    func fast(_ i: Inputs, chunk: Int) -> (y: Tensor, gradients: Gradients) {
        var state = i.state
        let (y, checkpoints) = SelectiveScan.forwardSavingCheckpoints(i.inputs, state: &state, chunk: chunk)
        return (y, SelectiveScan.backward(i.inputs, checkpoints: checkpoints, chunk: chunk, outputGradient: i.dy))
    }

    func slow(_ i: Inputs) -> Gradients {
        SelectiveScan.backwardReference(i.inputs, initialState: i.state, outputGradient: i.dy)
    }

    /// Tolerance as OpBackwardTests: 1e-4 of the gradient's scale + 1e-6; the scan's sums run over
    /// L·N terms per element here (≈ 60), well inside it.
    func testFiniteDifferences() {
        let (l, e, n, chunk) = (20, 17, 3, 6)
        let i = Inputs.selectiveScan(length: l, channels: e, states: n, seed: 100)
        let g = fast(i, chunk: chunk).gradients
        let d = [i.x, i.delta, i.A, i.B, i.C, i.D, i.state].map(GradientCheck.doubles)
        let weights = GradientCheck.doubles(i.dy)
        func loss(_ v: [[Double]]) -> Double {
            GradientCheck.dot(DoubleOps.scan(x: v[0], delta: v[1], A: v[2], B: v[3], C: v[4], D: v[5], state: v[6],
                                             rows: l, channels: e, states: n), weights)
        }
        GradientCheck.checkEach("SelectiveScan", d, analytic: g.all, loss: loss)
    }

    /// Chunked recompute (Float32, 16 lanes, 2 threads) vs all states kept (Double). Over L = 150 steps the
    /// Float32 rounding of h (~L·2⁻²⁴ relative, damped by |Ā| < 1) and of the sums reaches ~1e-6 of the
    /// scale; 2e-5 relative to each gradient's largest element.
    func testChunkedAgreesWithReference() {
        let i = Inputs.selectiveScan(length: 150, channels: 37, states: 16, seed: 200)
        let fastGradients = fast(i, chunk: 16).gradients
        let slowGradients = slow(i)
        for ((name, f), (_, s)) in zip(fastGradients.all, slowGradients.all) {
            let scale = s.data.reduce(Float(0)) { max($0, abs($1)) }
            let d = f.maxAbsDifference(s)
            print("SelectiveScan \(name): chunked vs reference max |Δ| = \(d), relative \(d / scale) (tolerance 2e-5)")
            XCTAssertLessThanOrEqual(d / scale, 2e-5, name)
        }
    }

    /// The checkpoint spacing and the thread count change no arithmetic: gradients are bit-identical.
    func testChunkSizeAndThreadsDoNotChangeResults() {
        let i = Inputs.selectiveScan(length: 70, channels: 40, states: 5, seed: 300)
        let reference = fast(i, chunk: 70)
        var plain = i.state
        let y = SelectiveScan.forward(x: i.x, delta: i.delta, A: i.A, B: i.B, C: i.C, D: i.D, state: &plain)
        XCTAssertEqual(y.data, reference.y.data, "forwardSavingCheckpoints vs forward")
        for chunk in [1, 7, 64, 128] {
            let saved = Parallel.threads
            Parallel.threads = chunk == 7 ? 1 : saved
            defer { Parallel.threads = saved }
            let other = fast(i, chunk: chunk)
            XCTAssertEqual(other.y.data, reference.y.data, "y chunk \(chunk)")
            for ((name, a), (_, b)) in zip(other.gradients.all, reference.gradients.all) where name != "dB" && name != "dC" {
                XCTAssertEqual(a.data, b.data, "\(name) chunk \(chunk)")
            }
        }
        print("SelectiveScan: chunks 1, 7, 64, 128 and one thread give bit-identical y, dx, dΔ, dA, dD, dh0 (tolerance 0)")
    }
}
