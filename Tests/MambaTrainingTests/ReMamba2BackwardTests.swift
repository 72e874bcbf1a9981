import XCTest
import Foundation
import MambaLM
@testable import MambaTraining
import TensorCore
import TestSupport

/// Finite differences (Float64, `GradientCheck`) for ReMamba2's Δ adaptation inside one Mamba-2 block (Eq. 8 per
/// head): dt (in_proj's last H outputs) → dt·α + Θ_l at the adapted rows → + dt_bias → softplus → time_step_limit
/// clamp. Checks dα, dΘ_l, d dt_bias and d in_proj (whose dt rows see dδ scaled by α) against a literal Double
/// block. Loss = Σ output ⊙ fixed random weights. Tolerance as OpBackwardTests: 1e-4 of the gradient's scale + 1e-6.
/// Legend: L rows, D d_model, E d_inner = H·P, H heads, G groups, N d_state, X = E + 2·G·N, I = E + X + H.
final class ReMamba2BackwardTests: XCTestCase {
    func testBlockWithDeltaAdaptation() {
        // 2 groups of 2 heads; the clamp [0.25, 1.1] cuts some Δ on both sides.
        let c = Mamba2Configuration(vocabularySize: 8, hiddenSize: 6, stateSize: 3, numberOfLayers: 1, convolutionKernel: 3,
                                    numberOfHeads: 4, headDimension: 3, numberOfGroups: 2, chunkSize: 4,
                                    timeStepLimit: 0.25...1.1)
        let (l, d, e, h, g, n, k) = (9, c.hiddenSize, c.innerSize, c.numberOfHeads, c.numberOfGroups, c.stateSize, c.convolutionKernel)
        let (x, i) = (c.convolutionDimension, c.inProjectionSize)
        let w = WeightMap.random(Mamba2Model.expectedWeights(c), seed: 91)
        let layer = Mamba2Parameters(weights: w, configuration: c).layers[0]
        let rows = 3..<6, alpha: [Float] = [0.8, 0.0, 0.35]
        let offset = TestInputs.normal([h], std: 0.5, seed: 92)
        let adaptation = LayerAdaptation(adaptation: SelectiveAdaptation(positions: rows, alpha: alpha, deltaOffsets: [offset]), layer: 0)
        let input = TestInputs.normal([l, d], seed: 93), dOut = TestInputs.normal([l, d], seed: 94)
        let (_, tape) = Mamba2LayerTraining.forward(input, layer, c, scanChunk: 4, adaptation: adaptation)
        var grad = layer.zeros()
        var ag: LayerAdaptation.Gradient? = LayerAdaptation.Gradient(alpha: [0, 0, 0], offset: Tensor(zeros: [h]))
        _ = Mamba2LayerTraining.backward(tape, layer, c, scanChunk: 4, outputGradient: dOut, gradients: &grad, adaptationGradient: &ag)
        var delta = tape.dtRaw
        Activations.softplus(&delta)
        XCTAssert(delta.data.contains { $0 < 0.25 } && delta.data.contains { $0 > 1.1 } && delta.data.contains { (0.25...1.1).contains($0) },
                  "the clamp acts on both sides and passes some Δ")

        let weights = GradientCheck.doubles(dOut), x0 = GradientCheck.doubles(input)
        let dbl = { (t: Tensor) in GradientCheck.doubles(t) }
        func columns(_ m: [Double], _ width: Int, _ begin: Int, _ count: Int) -> [Double] {
            (0..<l).flatMap { t in m[(t * width + begin)..<(t * width + begin + count)] }
        }
        func loss(alpha: [Double], theta: [Double], dtBias: [Double], inProjection: [Double]) -> Double {
            let normed = DoubleOps.rmsNorm(x0, dbl(layer.norm), epsilon: Double(c.layerNormEpsilon), rows: l)
            let projected = DoubleOps.linear(normed, inProjection, nil, rows: l, inFeatures: d, outFeatures: i)   // [L, I]
            let u = DoubleOps.conv(columns(projected, i, e, x), dbl(layer.convolution), layer.convolutionBias.map(dbl),
                                   state: [Double](repeating: 0, count: x * k), rows: l, channels: x, kernel: k).map(DoubleOps.silu)
            var delta = columns(projected, i, e + x, h)                                                          // [L, H]
            for t in 0..<l {
                for head in 0..<h {
                    if rows.contains(t) { delta[t * h + head] = delta[t * h + head] * alpha[t - rows.lowerBound] + theta[head] }  // Eq. 8
                    let v = DoubleOps.softplus(delta[t * h + head] + dtBias[head])
                    delta[t * h + head] = min(max(v, 0.25), 1.1)
                }
            }
            let y = DoubleOps.ssd(x: columns(u, x, 0, e), delta: delta, A: layer.aLog.data.map { -exp(Double($0)) },
                                  B: columns(u, x, e, g * n), C: columns(u, x, e + g * n, g * n), D: dbl(layer.D),
                                  state: [Double](repeating: 0, count: e * n), rows: l, heads: h, headDim: c.headDimension,
                                  groups: g, states: n)
            let gated = DoubleOps.gatedRMSNorm(y, gate: columns(projected, i, 0, e), weight: dbl(layer.gatedNorm),
                                               groupSize: c.normGroupSize, epsilon: Double(c.layerNormEpsilon), normBeforeGate: false)
            let out = DoubleOps.linear(gated, dbl(layer.outProjection), nil, rows: l, inFeatures: e, outFeatures: d)
            return GradientCheck.dot(zip(out, x0).map { $0 + $1 }, weights)
        }
        GradientCheck.checkAdaptedBlock("ReMamba2 block", alpha: alpha, adaptationGradient: ag!,
                                        bias: ("dt_bias", layer.dtBias, grad.dtBias),
                                        weight: ("in_proj", layer.inProjection, grad.inProjection), theta: offset) {
            loss(alpha: $0, theta: $1, dtBias: $2, inProjection: $3)
        }
    }
}
