import XCTest
import Foundation
import TensorCore
import TestSupport

/// Every op's backward against central finite differences of a Double forward (see GradientCheck).
/// Tolerance: max |Δ| ≤ 1e-4·(gradient scale) + 1e-6. The analytic gradients are Float32 sums of at most
/// a few hundred terms (relative rounding ≲ terms·2⁻²⁴ ≈ 1e-5 in the worst case, ~1e-6 typically), so
/// 1e-4 leaves a margin of ten while any wrong term (a missing factor, a sign, an off-by-one in time)
/// gives errors of order the gradient itself.
final class OpBackwardTests: XCTestCase {
    func testLinear() {
        let (l, i, o) = (5, 7, 6)
        let x = TestInputs.normal([l, i], seed: 1), w = TestInputs.normal([o, i], seed: 2), b = TestInputs.normal([o], seed: 3)
        let dy = TestInputs.normal([l, o], seed: 4)
        var dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape)
        var db: Tensor? = Tensor(zeros: [o])
        Linear.backward(x, weight: w, outputGradient: dy, inputGradient: &dx, weightGradient: &dw, biasGradient: &db)
        let (xd, wd, bd, g) = (GradientCheck.doubles(x), GradientCheck.doubles(w), GradientCheck.doubles(b), GradientCheck.doubles(dy))
        func loss(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            GradientCheck.dot(DoubleOps.linear(x, w, b, rows: l, inFeatures: i, outFeatures: o), g)
        }
        GradientCheck.check("Linear dx", xd, analytic: dx) { loss($0, wd, bd) }
        GradientCheck.check("Linear dW", wd, analytic: dw) { loss(xd, $0, bd) }
        GradientCheck.check("Linear db", bd, analytic: db!) { loss(xd, wd, $0) }

        // The BLAS path against its slow twin, both accumulating onto the same non-zero gradients.
        var dx2 = Tensor(shape: x.shape, repeating: 0.5), dw2 = Tensor(shape: w.shape, repeating: 0.5)
        var db2: Tensor? = Tensor(shape: [o], repeating: 0.5)
        var dx3 = dx2, dw3 = dw2, db3 = db2
        Linear.backward(x, weight: w, outputGradient: dy, inputGradient: &dx2, weightGradient: &dw2, biasGradient: &db2)
        Linear.backwardReference(x, weight: w, outputGradient: dy, inputGradient: &dx3, weightGradient: &dw3, biasGradient: &db3)
        for (fast, slow, name) in [(dx2, dx3, "dx"), (dw2, dw3, "dW"), (db2!, db3!, "db")] {
            let d = fast.maxAbsDifference(slow)
            print("Linear \(name): BLAS vs reference max |Δ| = \(d) (tolerance 1e-5)")
            XCTAssertLessThanOrEqual(d, 1e-5)
        }
    }

    func testRMSNorm() {
        let (l, d) = (4, 9)
        let x = TestInputs.normal([l, d], seed: 11), w = TestInputs.normal([d], seed: 12), dy = TestInputs.normal([l, d], seed: 13)
        let epsilon: Float = 1e-5
        var dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape)
        RMSNorm.backward(x, weight: w, epsilon: epsilon, outputGradient: dy, inputGradient: &dx, weightGradient: &dw)
        let (xd, wd, g) = (GradientCheck.doubles(x), GradientCheck.doubles(w), GradientCheck.doubles(dy))
        func loss(_ x: [Double], _ w: [Double]) -> Double {
            GradientCheck.dot(DoubleOps.rmsNorm(x, w, epsilon: Double(epsilon), rows: l), g)
        }
        GradientCheck.check("RMSNorm dx", xd, analytic: dx) { loss($0, wd) }
        GradientCheck.check("RMSNorm dw", wd, analytic: dw) { loss(xd, $0) }
    }

    func testCausalConv1d() {
        for (l, e, k) in [(6, 5, 4), (3, 4, 4), (7, 3, 2)] {   // L < k − 1 too: every output reaches into the state
            let x = TestInputs.normal([l, e], seed: 21), w = TestInputs.normal([e, k], seed: 22), b = TestInputs.normal([e], seed: 23)
            let state = TestInputs.normal([e, k], seed: 24), dy = TestInputs.normal([l, e], seed: 25)
            var dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape)
            var db: Tensor? = Tensor(zeros: [e])
            CausalConv1d.backward(x, weight: w, initialState: state, outputGradient: dy,
                                  inputGradient: &dx, weightGradient: &dw, biasGradient: &db)
            let (xd, wd, bd, sd, g) = (GradientCheck.doubles(x), GradientCheck.doubles(w), GradientCheck.doubles(b),
                                       GradientCheck.doubles(state), GradientCheck.doubles(dy))
            func loss(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
                GradientCheck.dot(DoubleOps.conv(x, w, b, state: sd, rows: l, channels: e, kernel: k), g)
            }
            GradientCheck.check("CausalConv1d L=\(l) k=\(k) dx", xd, analytic: dx) { loss($0, wd, bd) }
            GradientCheck.check("CausalConv1d L=\(l) k=\(k) dw", wd, analytic: dw) { loss(xd, $0, bd) }
            GradientCheck.check("CausalConv1d L=\(l) k=\(k) db", bd, analytic: db!) { loss(xd, wd, $0) }
        }
    }

    func testActivations() {
        // Values spread over both signs and past softplus' threshold of 20.
        var x = TestInputs.normal([3, 8], std: 4, seed: 31)
        x.data[0] = 25; x.data[1] = -25; x.data[2] = 19.5
        let z = TestInputs.normal([3, 8], std: 3, seed: 32), dy = TestInputs.normal([3, 8], seed: 33)
        let (xd, zd, g) = (GradientCheck.doubles(x), GradientCheck.doubles(z), GradientCheck.doubles(dy))
        var dx = Tensor(zeros: x.shape)
        Activations.siluBackward(x, outputGradient: dy, inputGradient: &dx)
        GradientCheck.check("SiLU dx", xd, analytic: dx) { GradientCheck.dot($0.map(DoubleOps.silu), g) }
        dx = Tensor(zeros: x.shape)
        Activations.softplusBackward(x, outputGradient: dy, inputGradient: &dx)
        GradientCheck.check("softplus dx", xd, analytic: dx) { GradientCheck.dot($0.map(DoubleOps.softplus), g) }
        var dyGate = Tensor(zeros: x.shape), dz = Tensor(zeros: z.shape)
        Activations.gateBackward(x, by: z, outputGradient: dy, inputGradient: &dyGate, gateGradient: &dz)
        func gate(_ y: [Double], _ z: [Double]) -> Double { GradientCheck.dot(zip(y, z).map { $0 * DoubleOps.silu($1) }, g) }
        GradientCheck.check("gate dy", xd, analytic: dyGate) { gate($0, zd) }
        GradientCheck.check("gate dz", zd, analytic: dz) { gate(xd, $0) }
    }

    func testDoubleForwardsAgreeWithReferences() {
        let x = TestInputs.normal([4, 6], seed: 41), w = TestInputs.normal([5, 6], seed: 42), b = TestInputs.normal([5], seed: 43)
        let linear = DoubleOps.linear(GradientCheck.doubles(x), GradientCheck.doubles(w), GradientCheck.doubles(b), rows: 4, inFeatures: 6, outFeatures: 5)
        XCTAssertLessThanOrEqual(Tensor(shape: [4, 5], data: linear.map(Float.init)).maxAbsDifference(Linear.reference(x, weight: w, bias: b)), 1e-6)
        let cw = TestInputs.normal([6, 3], seed: 44)
        var state = TestInputs.normal([6, 3], seed: 45)
        let conv = DoubleOps.conv(GradientCheck.doubles(x), GradientCheck.doubles(cw), nil, state: GradientCheck.doubles(state), rows: 4, channels: 6, kernel: 3)
        XCTAssertLessThanOrEqual(Tensor(shape: [4, 6], data: conv.map(Float.init)).maxAbsDifference(CausalConv1d.reference(x, weight: cw, bias: nil, state: &state)), 1e-6)
        let nw = TestInputs.normal([6], seed: 46)
        let norm = DoubleOps.rmsNorm(GradientCheck.doubles(x), GradientCheck.doubles(nw), epsilon: 1e-5, rows: 4)
        XCTAssertLessThanOrEqual(Tensor(shape: [4, 6], data: norm.map(Float.init)).maxAbsDifference(RMSNorm.reference(x, weight: nw, epsilon: 1e-5)), 1e-6)
    }
}
