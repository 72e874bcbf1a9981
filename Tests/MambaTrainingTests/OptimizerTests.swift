import XCTest
@testable import MambaTraining
import TensorCore

/// AdamW, the cosine schedule and clipping against their formulas, computed by hand in Double.
final class OptimizerTests: XCTestCase {
    func testAdamWMatchesTheFormulaOverThreeSteps() {
        let names = ["backbone.layers.0.mixer.in_proj.weight", "backbone.layers.0.mixer.A_log"]
        var parameters: NamedTensors = [names[0]: Tensor(shape: [3], data: [0.5, -1.0, 2.0]),
                                        names[1]: Tensor(shape: [2], data: [1.5, 0.25])]
        let gradients: [[Float]] = [[0.1, -0.2, 0.3], [0.05, -0.4, 0.0], [-0.3, 0.1, 0.2]]
        let optimizer = AdamW(weightDecay: 0.1)
        var state = AdamW.State()
        // By hand (torch.optim.AdamW's documented algorithm) in Double.
        var expected = parameters.mapValues { $0.data.map(Double.init) }
        var m = expected.mapValues { $0.map { _ in 0.0 } }, v = m
        var worst = 0.0
        for (t, g) in gradients.enumerated() {
            let lr = [1e-2, 5e-3, 2e-3][t]
            let grads: NamedTensors = [names[0]: Tensor(shape: [3], data: g), names[1]: Tensor(shape: [2], data: Array(g.prefix(2)))]
            optimizer.update(&parameters, gradients: grads, state: &state, lr: lr)
            for name in names {
                let decay = name == names[0] ? 0.1 : 0
                for i in expected[name]!.indices {
                    let gi = Double(grads[name]!.data[i])
                    expected[name]![i] *= 1 - lr * decay
                    m[name]![i] = 0.9 * m[name]![i] + 0.1 * gi
                    v[name]![i] = 0.999 * v[name]![i] + 0.001 * gi * gi
                    let mHat = m[name]![i] / (1 - pow(0.9, Double(t + 1)))
                    let vHat = v[name]![i] / (1 - pow(0.999, Double(t + 1)))
                    expected[name]![i] -= lr * mHat / (vHat.squareRoot() + 1e-8)
                    worst = max(worst, abs(Double(parameters[name]!.data[i]) - expected[name]![i]))
                }
            }
        }
        print("AdamW vs the formula over 3 steps: max |Δ| = \(worst) (tolerance 1e-6)")
        XCTAssertLessThan(worst, 1e-6)
        XCTAssertEqual(state.step, 3)
    }

    func testNoDecayForNormsBiasesALogDAndDtBias() {
        for name in ["backbone.layers.0.norm.weight", "backbone.norm_f.weight", "backbone.layers.3.mixer.A_log",
                     "backbone.layers.3.mixer.D", "backbone.layers.0.mixer.dt_proj.bias", "backbone.layers.0.mixer.conv1d.bias",
                     "backbone.layers.1.mixer.dt_bias", "backbone.layers.1.mixer.norm.weight", "backbone.layers.0.mixer.ret_bias.param",
                     "base_model.model.backbone.Q_proj.0.bias"] {
            XCTAssertFalse(AdamW.decays(name), name)
        }
        for name in ["backbone.embeddings.weight", "lm_head.weight", "backbone.layers.0.mixer.in_proj.weight",
                     "backbone.layers.0.mixer.dt_proj.weight", "backbone.layers.0.mixer.conv1d.weight",
                     "base_model.model.backbone.embeddings.lora_embedding_A", "base_model.model.backbone.Q_proj.2.weight"] {
            XCTAssertTrue(AdamW.decays(name), name)
        }
    }

    func testCosineScheduleWithWarmupAsTransformers() {
        let s = CosineSchedule(warmupSteps: 2, totalSteps: 10)
        let expected = [0, 0.5, 1, 0.5 * (1 + cos(.pi * 1 / 8)), 0.5 * (1 + cos(.pi * 2 / 8))]
        for (step, value) in expected.enumerated() { XCTAssertEqual(s.factor(step: step), value, accuracy: 1e-15, "step \(step)") }
        XCTAssertEqual(s.factor(step: 6), 0.5, accuracy: 1e-15)
        XCTAssertEqual(s.factor(step: 10), 0, accuracy: 1e-15)
        XCTAssertEqual(CosineSchedule(totalSteps: 4).factor(step: 0), 1)
    }

    func testClipByGlobalNormAsTorch() {
        var g: NamedTensors = ["a": Tensor(shape: [2], data: [3, 4]), "b": Tensor(shape: [1], data: [12])]
        let norm = GradientClipping.clip(&g, maxNorm: 1)
        XCTAssertEqual(norm, 13, accuracy: 1e-12)
        let c = Float(1 / (13 + 1e-6))
        XCTAssertEqual(g["a"]!.data, [3 * c, 4 * c])
        XCTAssertEqual(g["b"]!.data, [12 * c])
        var small: NamedTensors = ["a": Tensor(shape: [1], data: [0.5])]
        GradientClipping.clip(&small, maxNorm: 1)
        XCTAssertEqual(small["a"]!.data, [0.5], "below the threshold nothing changes")
    }
}
