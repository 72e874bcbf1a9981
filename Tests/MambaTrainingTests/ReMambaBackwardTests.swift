import XCTest
import Foundation
import MambaLM
@testable import MambaTraining
import TensorCore
import TestSupport

/// Finite differences (Float64, `GradientCheck`) for the pieces ReMamba adds to the Mamba backward: the
/// importance cos + ReLU (Eq. 3, 8), the Query/Key/Value feed-forward, and one Mamba block with the Δ
/// adaptation (Eq. 8: dα, dΘ, and the dt bias and weight around it). Loss = Σ output ⊙ fixed random weights.
final class ReMambaBackwardTests: XCTestCase {
    /// torch's CosineSimilarity(eps = 1e-8), literally, in Double.
    static func cosine(_ k: ArraySlice<Double>, _ q: ArraySlice<Double>) -> Double {
        let dot = zip(k, q).reduce(0) { $0 + $1.0 * $1.1 }
        let nk = k.reduce(0) { $0 + $1 * $1 }.squareRoot(), nq = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return dot / (max(nk, 1e-8) * max(nq, 1e-8))
    }

    func testImportanceCosineAndReLU() {
        let (r, d) = (6, 5)
        let keys = TestInputs.normal([r, d], seed: 61), query = TestInputs.normal([1, d], seed: 62)
        let weights = GradientCheck.doubles(TestInputs.normal([r], seed: 63))
        let importance = ImportanceTraining.forward(keys: keys, query: query)
        // loss = Σ w_i · ReLU(cos_i): dImportance = w · ReLU'(cos).
        let dImportance = (0..<r).map { importance[$0] > 0 ? weights[$0] : 0 }
        XCTAssert(importance.contains { $0 > 0 } && importance.contains { $0 < 0 }, "both sides of the ReLU")
        var dKeys = Tensor(zeros: keys.shape), dQuery = Tensor(zeros: query.shape)
        ImportanceTraining.backward(keys: keys, query: query, importanceGradient: dImportance, keyGradient: &dKeys, queryGradient: &dQuery)
        func loss(_ k: [Double], _ q: [Double]) -> Double {
            (0..<r).reduce(0) { $0 + weights[$1] * max(Self.cosine(k[($1 * d)..<(($1 + 1) * d)], q[...]), 0) }
        }
        let k0 = GradientCheck.doubles(keys), q0 = GradientCheck.doubles(query)
        GradientCheck.check("ReLU(cos) dKeys", k0, analytic: dKeys) { loss($0, q0) }
        GradientCheck.check("ReLU(cos) dQuery", q0, analytic: dQuery) { loss(k0, $0) }
    }

    func testFeedForward() {
        let (r, d) = (4, 6)
        let w = WeightMap(tensors: ["f.0.weight": TestInputs.normal([d, d], std: 0.5, seed: 71), "f.0.bias": TestInputs.normal([d], seed: 72),
                                    "f.2.weight": TestInputs.normal([d, d], std: 0.5, seed: 73), "f.2.bias": TestInputs.normal([d], seed: 74)])
        let p = FeedForwardParameters(ModuleWeights(w, prefix: "f", configuration: d))
        let x = TestInputs.normal([r, d], seed: 75), dy = TestInputs.normal([r, d], seed: 76)
        let (_, tape) = FeedForwardTraining.forward(x, p)
        var g = p.zeros()
        let dx = FeedForwardTraining.backward(tape, p, outputGradient: dy, gradients: &g)
        let weights = GradientCheck.doubles(dy)
        func loss(_ x: [Double], _ w0: [Double], _ b0: [Double], _ w2: [Double], _ b2: [Double]) -> Double {
            let hidden = DoubleOps.linear(x, w0, b0, rows: r, inFeatures: d, outFeatures: d).map(DoubleOps.silu)
            return GradientCheck.dot(DoubleOps.linear(hidden, w2, b2, rows: r, inFeatures: d, outFeatures: d), weights)
        }
        let (x0, w0, b0, w2, b2) = (GradientCheck.doubles(x), GradientCheck.doubles(p.weight0), GradientCheck.doubles(p.bias0),
                                    GradientCheck.doubles(p.weight2), GradientCheck.doubles(p.bias2))
        GradientCheck.check("FeedForward dx", x0, analytic: dx) { loss($0, w0, b0, w2, b2) }
        GradientCheck.check("FeedForward dW0", w0, analytic: g.weight0) { loss(x0, $0, b0, w2, b2) }
        GradientCheck.check("FeedForward db0", b0, analytic: g.bias0) { loss(x0, w0, $0, w2, b2) }
        GradientCheck.check("FeedForward dW2", w2, analytic: g.weight2) { loss(x0, w0, b0, $0, b2) }
        GradientCheck.check("FeedForward db2", b2, analytic: g.bias2) { loss(x0, w0, b0, w2, $0) }
    }

    /// One block with the Δ adaptation at rows 2..<4 of 7, against a literal Double block.
    func testBlockWithDeltaAdaptation() {
        let c = MambaConfiguration(vocabularySize: 8, hiddenSize: 4, stateSize: 3, numberOfLayers: 1, expand: 2,
                                   convolutionKernel: 3, timeStepRank: 2)
        let (l, d, e, n, r, k) = (7, c.hiddenSize, c.innerSize, c.stateSize, c.timeStepRank, c.convolutionKernel)
        let w = WeightMap.random(MambaModel.expectedWeights(c).merging(
            ReMambaModel<MambaModel>.expectedWeights(hiddenSize: d, layers: 1, deltaOffsetSize: e)) { a, _ in a }, seed: 81)
        var p = ReMambaParameters<MambaParameters>(weights: w, configuration: c)
        p.deltaOffsets[0] = TestInputs.normal([e], std: 0.5, seed: 82)
        let layer = p.base.layers[0]
        let rows = 2..<4, alpha: [Float] = [0.7, 0.25]
        let adaptation = LayerAdaptation(adaptation: SelectiveAdaptation(positions: rows, alpha: alpha, deltaOffsets: p.deltaOffsets), layer: 0)
        let x = TestInputs.normal([l, d], seed: 83), dOut = TestInputs.normal([l, d], seed: 84)
        let (_, tape) = MambaLayerTraining.forward(x, layer, c, scanChunk: 3, adaptation: adaptation)
        var g = layer.zeros()
        var ag: LayerAdaptation.Gradient? = LayerAdaptation.Gradient(alpha: [0, 0], offset: Tensor(zeros: [e]))
        _ = MambaLayerTraining.backward(tape, layer, c, scanChunk: 3, outputGradient: dOut, gradients: &g, adaptationGradient: &ag)

        let weights = GradientCheck.doubles(dOut), x0 = GradientCheck.doubles(x)
        let dbl = { (t: Tensor) in GradientCheck.doubles(t) }
        func columns(_ m: [Double], _ width: Int, _ begin: Int, _ count: Int) -> [Double] {
            (0..<l).flatMap { t in m[(t * width + begin)..<(t * width + begin + count)] }
        }
        func loss(alpha: [Double], theta: [Double], bias: [Double], dtWeight: [Double]) -> Double {
            let normed = DoubleOps.rmsNorm(x0, dbl(layer.norm), epsilon: Double(c.layerNormEpsilon), rows: l)
            let xz = DoubleOps.linear(normed, dbl(layer.inProjection), nil, rows: l, inFeatures: d, outFeatures: 2 * e)
            let u = DoubleOps.conv(columns(xz, 2 * e, 0, e), dbl(layer.convolution), layer.convolutionBias.map(dbl),
                                   state: [Double](repeating: 0, count: e * k), rows: l, channels: e, kernel: k).map(DoubleOps.silu)
            let xdbl = DoubleOps.linear(u, dbl(layer.xProjection), nil, rows: l, inFeatures: e, outFeatures: r + 2 * n)
            var delta = DoubleOps.linear(columns(xdbl, r + 2 * n, 0, r), dtWeight, nil, rows: l, inFeatures: r, outFeatures: e)
            for t in 0..<l {
                for ch in 0..<e {
                    if rows.contains(t) { delta[t * e + ch] = delta[t * e + ch] * alpha[t - rows.lowerBound] + theta[ch] }  // Eq. 8
                    delta[t * e + ch] = DoubleOps.softplus(delta[t * e + ch] + bias[ch])
                }
            }
            let y = DoubleOps.scan(x: u, delta: delta, A: layer.aLog.data.map { -exp(Double($0)) }, B: columns(xdbl, r + 2 * n, r, n),
                                   C: columns(xdbl, r + 2 * n, r + n, n), D: dbl(layer.D), state: [Double](repeating: 0, count: e * n),
                                   rows: l, channels: e, states: n)
            let z = columns(xz, 2 * e, e, e)
            let gated = (0..<(l * e)).map { y[$0] * DoubleOps.silu(z[$0]) }
            let out = DoubleOps.linear(gated, dbl(layer.outProjection), nil, rows: l, inFeatures: e, outFeatures: d)
            return GradientCheck.dot(zip(out, x0).map { $0 + $1 }, weights)
        }
        GradientCheck.checkAdaptedBlock("adapted block", alpha: alpha, adaptationGradient: ag!,
                                        bias: ("dt_proj.bias", layer.dtProjectionBias, g.dtProjectionBias),
                                        weight: ("dt_proj.weight", layer.dtProjection, g.dtProjection), theta: p.deltaOffsets[0]) {
            loss(alpha: $0, theta: $1, bias: $2, dtWeight: $3)
        }
    }
}

extension GradientCheck {
    /// The finite-difference checks of a block adapted at some rows (Eq. 8; here and in ReMamba2BackwardTests):
    /// dα, dΘ_l, and the gradients of the bias added to δ and of the weight that produces δ, each against
    /// `loss(α, Θ_l, bias, weight)` with the other three fixed at their values.
    static func checkAdaptedBlock(_ label: String, alpha: [Float], adaptationGradient ag: LayerAdaptation.Gradient,
                                  bias: (name: String, value: Tensor, gradient: Tensor),
                                  weight: (name: String, value: Tensor, gradient: Tensor), theta: Tensor,
                                  file: StaticString = #filePath, line: UInt = #line,
                                  loss: ([Double], [Double], [Double], [Double]) -> Double) {
        let (a0, t0, b0, w0) = (alpha.map(Double.init), doubles(theta), doubles(bias.value), doubles(weight.value))
        check("\(label) dα", a0, analytic: Tensor(shape: [alpha.count], data: ag.alpha.map(Float.init)), file: file, line: line) {
            loss($0, t0, b0, w0)
        }
        check("\(label) dΘ", t0, analytic: ag.offset, file: file, line: line) { loss(a0, $0, b0, w0) }
        check("\(label) d \(bias.name)", b0, analytic: bias.gradient, file: file, line: line) { loss(a0, t0, $0, w0) }
        check("\(label) d \(weight.name)", w0, analytic: weight.gradient, file: file, line: line) { loss(a0, t0, b0, $0) }
    }
}
