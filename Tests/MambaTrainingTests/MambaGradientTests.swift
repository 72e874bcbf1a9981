import XCTest
import Foundation
import MambaLM
@testable import MambaTraining
import TensorCore
import TestSupport

/// The whole model's loss and gradients against PyTorch (transformers `MambaForCausalLM`,
/// `model(ids, labels=ids).loss.backward()`, computed in float64: Tests/Fixtures/gradients, written by
/// scripts/fixtures/mamba1_gradients.py) on the tiny fixtures: tied and untied, with and without biases, k = 2…4.
///
/// Tolerances. Loss: 1e-5 absolute (a mean of log-softmaxes of O(10) logits; Float32 logits differ from
/// float64 by ~1e-6). Gradients: per tensor, max |Δ| ≤ 2e-5·max|g| + 1e-8. PyTorch's own float32 gradients
/// differ from the float64 ones by up to 1.8e-6 of the scale (manifest.json); ours are Float32 too, with
/// sums in another order (BLAS, 16-lane scan), so a few 1e-6 is expected (measured: ≤ 2.1e-6) and 2e-5
/// leaves a margin of ten, while a wrong term gives differences of order the gradient itself. The +1e-8
/// only covers tensors whose gradient is exactly or nearly zero.
final class MambaGradientTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func parameters(_ name: String) throws -> MambaParameters {
        try MambaParameters(directory: ModelDirectory(fixtures.appendingPathComponent("mamba1/\(name)")))
    }

    func testGradientsMatchPyTorch() throws {
        // scanChunk 16: 3 and 10 chunks, so the recompute from checkpoints is exercised.
        try GoldenGradients.checkBaseModels(["tiny_a", "tiny_b", "tiny_c"], folder: Self.fixtures.appendingPathComponent("gradients"),
                                            scanChunk: 16, title: "gradients vs PyTorch", parameters: Self.parameters)
    }

    /// The tolerances above, for both families (`GoldenGradients.checkBaseModels`).
    static let goldenGradients = GoldenGradients(relativeTolerance: 2e-5, toleranceText: "2e-5")

    /// The training forward is the inference forward: the same logits as `MambaModel` (bit for bit: same
    /// ops in the same order; the checkpointed scan runs the same kernel chunk by chunk).
    func testTrainingForwardEqualsInferenceForward() throws {
        for name in ["tiny_a", "tiny_b", "tiny_c"] {
            let directory = try ModelDirectory(Self.fixtures.appendingPathComponent("mamba1/\(name)"))
            try Self.assertTrainingForwardEqualsInference(name, model: MambaModel(directory: directory),
                                                          parameters: MambaParameters(directory: directory), scanChunk: 16)
        }
    }

    /// The training forward's logits on 70 ids equal `model`'s inference forward, bit for bit (here and in
    /// Mamba2GradientTests).
    static func assertTrainingForwardEqualsInference<Model: Backbone, Layer>(_ name: String, model: Model,
                                                                             parameters p: BackboneParameters<Layer>, scanChunk: Int,
                                                                             file: StaticString = #filePath, line: UInt = #line) {
        let ids = (0..<70).map { ($0 * 37 + 5) % model.vocabularySize }
        var state = model.makeState()
        let inference = model.logits(model.hiddenStates(model.embed(ids), state: &state, adaptation: nil))
        let training = MambaGradients.logits(of: p, ids: ids, options: TrainingOptions(scanChunk: scanChunk))
        print("\(name): training vs inference forward max |Δlogits| = \(training.maxAbsDifference(inference)) (tolerance 0)")
        XCTAssertEqual(training.data, inference.data, name, file: file, line: line)
    }

    /// Recomputing each block's tape in the backward (activation checkpointing) changes no arithmetic.
    func testRecomputedLayersGiveIdenticalGradients() throws {
        let p = try Self.parameters("tiny_b")
        let ids = (0..<33).map { ($0 * 11 + 3) % 300 }
        let (l1, g1) = MambaGradients.lossAndGradients(p, ids: ids, options: TrainingOptions(scanChunk: 8))
        let (l2, g2) = MambaGradients.lossAndGradients(p, ids: ids, options: TrainingOptions(scanChunk: 8, recomputeLayers: true))
        XCTAssertEqual(l1, l2)
        for ((name, a), (_, b)) in zip(g1.named, g2.named) { XCTAssertEqual(a.data, b.data, name) }
        print("recomputeLayers: loss and all \(g1.named.count) gradients bit-identical (tolerance 0)")
    }

    /// The fused, chunked lm_head + loss against its slow twin, CrossEntropy on whole logits + Linear.backward.
    func testLanguageModelHeadAgreesWithCrossEntropy() {
        let (l, d, v) = (9, 12, 37)
        let hidden = TestInputs.normal([l, d], seed: 51), weight = TestInputs.normal([v, d], std: 0.5, seed: 52)
        let targets: [Int?] = [3, 0, nil, 36, 5, 5, 17, 2, nil]
        var dh = Tensor(zeros: hidden.shape), dw = Tensor(zeros: weight.shape)
        let loss = LanguageModelHead.lossAndBackward(hidden: hidden, weight: weight, targets: targets, rowsPerChunk: 4,
                                                     hiddenGradient: &dh, weightGradient: &dw)
        let logits = Linear.reference(hidden, weight: weight)
        let expectedLoss = CrossEntropy.forward(logits: logits, targets: targets)
        let dLogits = CrossEntropy.backward(logits: logits, targets: targets)
        var dh2 = Tensor(zeros: hidden.shape), dw2 = Tensor(zeros: weight.shape)
        var none: Tensor? = nil
        Linear.backwardReference(hidden, weight: weight, outputGradient: dLogits, inputGradient: &dh2, weightGradient: &dw2, biasGradient: &none)
        print("LanguageModelHead: loss |Δ| = \(abs(loss - expectedLoss)), dhidden \(dh.maxAbsDifference(dh2)), dW \(dw.maxAbsDifference(dw2)) (tolerance 1e-6)")
        XCTAssertEqual(loss, expectedLoss, accuracy: 1e-6)
        XCTAssertLessThanOrEqual(dh.maxAbsDifference(dh2), 1e-6)
        XCTAssertLessThanOrEqual(dw.maxAbsDifference(dw2), 1e-6)
    }
}
