import XCTest
import Foundation
import TensorCore
import TestSupport

/// The Mamba-2 ops' backward: the SSD scan (finite differences, slow twin, checkpoint spacing) and the
/// gated RMSNorm (finite differences, both gate orders). Legend: L length, H heads, P head_dim, G groups,
/// N d_state, E = H·P.
final class Mamba2OpBackwardTests: XCTestCase {
    typealias Inputs = ScanProblem
    typealias Gradients = ScanGradients

    func fast(_ i: Inputs, chunkSize: Int, chunk: Int) -> (y: Tensor, gradients: Gradients) {
        var state = i.state
        let (y, checkpoints) = StateSpaceDuality.chunkedSavingCheckpoints(i.inputs, groups: i.groups, chunkSize: chunkSize,
                                                                          state: &state, chunk: chunk)
        return (y, StateSpaceDuality.backward(i.inputs, groups: i.groups, checkpoints: checkpoints, chunk: chunk, outputGradient: i.dy))
    }

    func slow(_ i: Inputs) -> Gradients {
        StateSpaceDuality.backwardReference(i.inputs, groups: i.groups, initialState: i.state, outputGradient: i.dy)
    }

    /// Every input against central differences of the Double recurrence, with 2 groups of 2 heads, a
    /// checkpoint spacing (5) that divides neither L (13) nor is a multiple of the SSD chunk (4).
    /// Tolerance as OpBackwardTests: 1e-4 of the gradient's scale + 1e-6.
    func testSSDFiniteDifferences() {
        let (l, h, p, g, n) = (13, 4, 3, 2, 5)
        let i = Inputs.stateSpaceDuality(length: l, heads: h, headDim: p, groups: g, states: n, seed: 400)
        let analytic = fast(i, chunkSize: 4, chunk: 5).gradients
        let d = [i.x, i.delta, i.A, i.B, i.C, i.D, i.state].map(GradientCheck.doubles)
        let weights = GradientCheck.doubles(i.dy)
        func loss(_ v: [[Double]]) -> Double {
            GradientCheck.dot(DoubleOps.ssd(x: v[0], delta: v[1], A: v[2], B: v[3], C: v[4], D: v[5], state: v[6],
                                            rows: l, heads: h, headDim: p, groups: g, states: n), weights)
        }
        GradientCheck.checkEach("SSD", d, analytic: analytic.all, loss: loss)
    }

    /// The Double recurrence of the finite-difference check is the forward: it agrees with the slow twin
    /// `StateSpaceDuality.sequential` (and so, by Mamba2 tests, with the chunked SSD).
    func testDoubleSSDAgreesWithSequential() {
        let (l, h, p, g, n) = (9, 4, 3, 2, 5)
        let i = Inputs.stateSpaceDuality(length: l, heads: h, headDim: p, groups: g, states: n, seed: 450)
        var state = i.state
        let y = StateSpaceDuality.sequential(x: i.x, delta: i.delta, A: i.A, B: i.B, C: i.C, D: i.D, groups: g, state: &state)
        let d = [i.x, i.delta, i.A, i.B, i.C, i.D, i.state].map(GradientCheck.doubles)
        let literal = DoubleOps.ssd(x: d[0], delta: d[1], A: d[2], B: d[3], C: d[4], D: d[5], state: d[6],
                                    rows: l, heads: h, headDim: p, groups: g, states: n)
        XCTAssertLessThanOrEqual(Tensor(shape: y.shape, data: literal.map(Float.init)).maxAbsDifference(y), 1e-5)
    }

    /// Chunk recompute (Float32, vectorized over [P, N], 2 threads) vs all states kept (Double), at the
    /// fixtures' shapes of the scan (H 12, P 8, G 2, N 8 / H 8, P 16, G 1, N 16) and L = 150 (9.4 SSD
    /// chunks of 16, checkpoints every 32). Float32 rounding of h over 150 steps and of the sums over
    /// P·N terms reaches a few 1e-6 of the scale; 2e-5 relative to each gradient's largest element.
    func testSSDBackwardAgreesWithReference() {
        for (h, p, g, n) in [(12, 8, 2, 8), (8, 16, 1, 16)] {
            let i = Inputs.stateSpaceDuality(length: 150, heads: h, headDim: p, groups: g, states: n, seed: 500)
            let fastGradients = fast(i, chunkSize: 16, chunk: 32).gradients
            let slowGradients = slow(i)
            for ((name, f), (_, s)) in zip(fastGradients.all, slowGradients.all) {
                let scale = s.data.reduce(Float(0)) { max($0, abs($1)) }
                let d = f.maxAbsDifference(s)
                print("SSD G=\(g) \(name): checkpointed vs reference max |Δ| = \(d), relative \(d / scale) (tolerance 2e-5)")
                XCTAssertLessThanOrEqual(d / scale, 2e-5, "G=\(g) \(name)")
            }
        }
    }

    /// y is the chunked SSD's, bit for bit, when the checkpoint spacing is a multiple of the SSD chunk.
    /// The spacing changes where the recompute starts from a (chunked) checkpoint instead of the
    /// recurrence, i.e. only Float32 rounding: gradients agree to 1e-5 of their scale. The thread count
    /// changes nothing but the order of dB, dC's sums over heads.
    func testCheckpointSpacingAndThreadsDoNotChangeResults() {
        let i = Inputs.stateSpaceDuality(length: 70, heads: 6, headDim: 4, groups: 3, states: 5, seed: 600)
        var plain = i.state
        let y = StateSpaceDuality.chunked(x: i.x, delta: i.delta, A: i.A, B: i.B, C: i.C, D: i.D, groups: 3,
                                          chunkSize: 8, state: &plain)
        let reference = fast(i, chunkSize: 8, chunk: 70)
        var worst: Float = 0
        for chunk in [1, 7, 16, 64] {
            let other = fast(i, chunkSize: 8, chunk: chunk)
            if chunk % 8 == 0 { XCTAssertEqual(other.y.data, y.data, "y chunk \(chunk)") }
            for ((name, a), (_, b)) in zip(other.gradients.all, reference.gradients.all) {
                let scale = b.data.reduce(Float(0)) { max($0, abs($1)) }
                worst = max(worst, a.maxAbsDifference(b) / scale)
                XCTAssertLessThanOrEqual(a.maxAbsDifference(b), 1e-5 * scale, "\(name) chunk \(chunk)")
            }
        }
        let saved = Parallel.threads
        Parallel.threads = 1
        let single = fast(i, chunkSize: 8, chunk: 16)
        Parallel.threads = saved
        let multi = fast(i, chunkSize: 8, chunk: 16)
        for ((name, a), (_, b)) in zip(single.gradients.all, multi.gradients.all) where name != "dB" && name != "dC" {
            XCTAssertEqual(a.data, b.data, "\(name): one thread vs \(saved)")
        }
        print("SSD: checkpoints every 1, 7, 16, 64 vs 70: worst relative gradient difference \(worst) (tolerance 1e-5); "
              + "y bit-identical to chunked for multiples of the chunk; one thread: identical dx, dΔ, dA, dD, dh0")
    }

    /// Both gate orders, 3 groups of 4 channels, against central differences (tolerance 1e-4·scale + 1e-6).
    func testGatedRMSNormFiniteDifferences() {
        let (l, e, groupSize) = (3, 12, 4)
        let y = TestInputs.normal([l, e], seed: 700), z = TestInputs.normal([l, e], std: 2, seed: 701)
        let w = TestInputs.normal([e], seed: 702), dout = TestInputs.normal([l, e], seed: 703)
        let epsilon: Float = 1e-5
        let (yd, zd, wd, g) = (GradientCheck.doubles(y), GradientCheck.doubles(z), GradientCheck.doubles(w), GradientCheck.doubles(dout))
        for normBeforeGate in [false, true] {
            var dy = Tensor(zeros: y.shape), dz = Tensor(zeros: z.shape), dw = Tensor(zeros: w.shape)
            GatedRMSNorm.backward(y, gate: z, weight: w, groupSize: groupSize, epsilon: epsilon, normBeforeGate: normBeforeGate,
                                  outputGradient: dout, inputGradient: &dy, gateGradient: &dz, weightGradient: &dw)
            func loss(_ y: [Double], _ z: [Double], _ w: [Double]) -> Double {
                GradientCheck.dot(DoubleOps.gatedRMSNorm(y, gate: z, weight: w, groupSize: groupSize, epsilon: Double(epsilon),
                                                         normBeforeGate: normBeforeGate), g)
            }
            let label = "GatedRMSNorm normBeforeGate=\(normBeforeGate)"
            GradientCheck.check("\(label) dy", yd, analytic: dy) { loss($0, zd, wd) }
            GradientCheck.check("\(label) dz", zd, analytic: dz) { loss(yd, $0, wd) }
            GradientCheck.check("\(label) dw", wd, analytic: dw) { loss(yd, zd, $0) }
            let literal = DoubleOps.gatedRMSNorm(yd, gate: zd, weight: wd, groupSize: groupSize, epsilon: Double(epsilon),
                                                 normBeforeGate: normBeforeGate)
            let reference = GatedRMSNorm.reference(y, gate: z, weight: w, groupSize: groupSize, epsilon: epsilon,
                                                   normBeforeGate: normBeforeGate)
            XCTAssertLessThanOrEqual(Tensor(shape: y.shape, data: literal.map(Float.init)).maxAbsDifference(reference), 1e-6)
        }
    }
}
