import XCTest
import Foundation
import MambaLM
@testable import MambaTraining
import TensorCore

/// ReMamba training loss and gradients against PyTorch autograd in float64 (Tests/Fixtures/remamba-gradients,
/// written by scripts/fixtures/remamba_gradients.py, whose forward first reproduces the official ReMamba outputs)
/// on the official tiny model remamba1_a: both stages, s = 0 and s > 0, L = 40 and 150, response-only and
/// next-token targets, the official α-gradient scaling on and off, the multiplicative ablation and fixed selection.
///
/// Tolerances. Loss: 1e-5 absolute (the losses are ≈ 30: this random model has large logits; measured ≤ 2.5e-6).
/// Gradients: per tensor, max |Δ| ≤ 3e-5·max|g| + 1e-8. Float32 throughout, with sums in another order than
/// PyTorch's float64, through two stacks of blocks and the cosine: measured ≤ 3.4e-6 of the scale, so 3e-5 leaves
/// a margin of about nine, while a wrong term moves gradients by far more (`testImportanceScalingIsVisible`: the
/// α-gradient scaling on instead of off moves Key/Query gradients by order the gradient itself).
final class ReMambaGradientTests: XCTestCase {
    static let fixtures = MambaGradientTests.fixtures

    static func parameters() throws -> ReMambaParameters<MambaParameters> {
        try ReMambaParameters<MambaParameters>(directory: ModelDirectory(fixtures.appendingPathComponent("remamba-official/models/remamba1_a")))
    }

    func testGradientsMatchPyTorch() throws {
        try GoldenGradients.checkReMambaCases(Self.parameters(), folder: Self.fixtures.appendingPathComponent("remamba-gradients"),
                                              model: "remamba1_a", minimumCases: 4, title: "ReMamba gradients vs PyTorch")
    }

    /// The fixtures tell the α-gradient scaling apart: on and off give Key/Query/ret_bias gradients that differ
    /// by far more than the tolerance, and the base's stage-2-only paths (norm_f) differ not at all.
    func testImportanceScalingIsVisible() throws {
        let p = try Self.parameters()
        let ids = (0..<40).map { ($0 * 31 + 11) % 512 }
        let settings = CompressionSettings(start: 0, length: 0.5, ratio: 0.2)
        let (_, on) = try ReMambaGradients.lossAndGradients(p, ids: ids, promptLength: 30, settings: settings, scaleImportanceGradient: true)
        let (_, off) = try ReMambaGradients.lossAndGradients(p, ids: ids, promptLength: 30, settings: settings, scaleImportanceGradient: false)
        let scale = off.key.weight2.data.reduce(Float(0)) { max($0, abs($1)) }
        let d = on.key.weight2.maxAbsDifference(off.key.weight2)
        print("α-gradient scaling on vs off: K_proj.2.weight max |Δ| = \(d), scale \(scale) (must exceed 1e-2·scale)")
        XCTAssertGreaterThan(d, 1e-2 * scale)
        XCTAssertEqual(on.value.weight2.data, off.value.weight2.data, "the Value path does not see α's gradient")
    }

    /// Recomputing the blocks' tapes in the backward (both stages) changes no arithmetic.
    func testRecomputedLayersGiveIdenticalGradients() throws {
        try Self.assertRecomputedLayersChangeNothing(Self.parameters(), vocabularySize: 512, label: "ReMamba")
    }

    /// The check above for either family (ReMamba2GradientTests too): 37 ids below `vocabularySize`, a prompt of 30.
    static func assertRecomputedLayersChangeNothing<Base>(_ p: ReMambaParameters<Base>, vocabularySize: Int, label: String,
                                                          file: StaticString = #filePath, line: UInt = #line) throws {
        let ids = (0..<37).map { ($0 * 29 + 7) % vocabularySize }
        let settings = CompressionSettings(start: 0.1, length: 0.4, ratio: 0.3)
        let (l1, g1) = try ReMambaGradients.lossAndGradients(p, ids: ids, promptLength: 30, settings: settings,
                                                             options: TrainingOptions(scanChunk: 8))
        let (l2, g2) = try ReMambaGradients.lossAndGradients(p, ids: ids, promptLength: 30, settings: settings,
                                                             options: TrainingOptions(scanChunk: 8, recomputeLayers: true))
        XCTAssertEqual(l1, l2, file: file, line: line)
        for ((name, a), (_, b)) in zip(g1.named, g2.named) { XCTAssertEqual(a.data, b.data, name, file: file, line: line) }
        print("\(label) recomputeLayers: loss and all \(g1.named.count) gradients bit-identical (tolerance 0)")
    }

    /// The official sampling rule: st = 0; L > 1600: to_len = min(⌈L·U(0.1, 0.3)⌉, L − 1500), else ⌈0.1·L⌉;
    /// K = ⌈to_len·U(0.05, 0.2)⌉; the same seed gives the same plans.
    func testRecipeFollowsTheOfficialRule() {
        var a = ReMambaRecipe(seed: 7), b = ReMambaRecipe(seed: 7)
        for l in [1, 9, 100, 1600, 1601, 1700, 4000, 20000] {
            for _ in 0..<50 {
                let plan = a.plan(promptLength: l)
                XCTAssertEqual(plan, b.plan(promptLength: l))
                XCTAssertEqual(plan.start, 0)
                if l > 1600 {
                    XCTAssertLessThanOrEqual(plan.length, l - 1500)
                    XCTAssertGreaterThanOrEqual(plan.length, min(Int((Double(l) * 0.1).rounded(.up)), l - 1500))
                    XCTAssertLessThanOrEqual(plan.length, Int((Double(l) * 0.3).rounded(.up)))
                } else {
                    XCTAssertEqual(plan.length, max(1, Int((Double(l) * 0.1).rounded(.up))))
                }
                XCTAssertGreaterThanOrEqual(plan.keep, Int((Double(plan.length) * 0.05).rounded(.up)))
                XCTAssertLessThanOrEqual(plan.keep, Int((Double(plan.length) * 0.2).rounded(.up)))
            }
        }
        print("ReMambaRecipe: 400 plans within the official rule, reproducible from the seed")
    }

    /// The official fine-tuning's start from a plain Mamba: Key/Query from layer 0's in_proj, Value from its
    /// out_proj, biases and Θ zero; the result is a complete, trainable ReMamba.
    func testInitialisationFromAPlainMamba() throws {
        let base = try MambaGradientTests.parameters("tiny_a")
        let p = ReMambaParameters(base: base)
        let d = base.configuration.hiddenSize
        XCTAssertEqual(p.key.weight2.data, base.layers[0].inProjection.rows(d..<(2 * d)).data)
        XCTAssertEqual(p.query.weight0.data, base.layers[0].inProjection.rows((2 * d)..<(3 * d)).data)
        XCTAssertEqual(p.value.weight0.data[1], base.layers[0].outProjection.data[1])
        XCTAssertEqual(p.value.weight2.data[0], base.layers[0].outProjection.data[d])
        XCTAssert(p.deltaOffsets.allSatisfy { $0.data.allSatisfy { $0 == 0 } } && p.value.bias2.data.allSatisfy { $0 == 0 })
        XCTAssertEqual(p.named.count, base.named.count + 12 + base.layers.count)
        let ids = (0..<30).map { ($0 * 7 + 1) % base.configuration.vocabularySize }
        let (loss, g) = try ReMambaGradients.lossAndGradients(p, ids: ids, promptLength: 24, settings: CompressionSettings(start: 0, length: 0.3, ratio: 0.3))
        XCTAssert(loss.isFinite && g.key.weight0.data.contains { $0 != 0 } && g.deltaOffsets[0].data.contains { $0 != 0 })
    }

    /// Ablation `none` (Value inserted as is, no Δ adaptation) and random selection: the importance no longer
    /// reaches the loss, so Query, Key and Θ get exactly zero gradients while Value gets some.
    func testNoAdaptationLeavesQueryKeyAndOffsetsWithoutGradient() throws {
        let p = try Self.parameters()
        let ids = (0..<36).map { ($0 * 13 + 5) % 512 }
        let settings = CompressionSettings(start: 0.2, length: 0.5, ratio: 0.3, selection: .random(seed: 3), adaptation: .none)
        let (loss, g) = try ReMambaGradients.lossAndGradients(p, ids: ids, promptLength: 30, settings: settings)
        XCTAssert(loss.isFinite)
        for t in [g.query.weight0, g.query.bias2, g.key.weight2, g.key.bias0] + g.deltaOffsets {
            XCTAssert(t.data.allSatisfy { $0 == 0 })
        }
        XCTAssert(g.value.weight0.data.contains { $0 != 0 })
    }

    /// Stage-2 targets: rows before the range keep theirs, the K − 1 first inserted rows have none, the last
    /// inserted row takes the range's last target, later rows are shifted.
    func testStage2Targets() throws {
        let plan = try CompressionPlan(promptLength: 10, start: 2, length: 5, keep: 2)     // range 2..<7
        let targets: [Int?] = (0..<12).map { $0 + 100 }
        XCTAssertEqual(ReMambaGradients.stage2Targets(targets, plan: plan),
                       [100, 101, nil, 106, 107, 108, 109, 110, 111])
    }
}
