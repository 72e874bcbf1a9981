import XCTest
import Foundation
import MambaLM
@testable import MambaTraining
import TensorCore

/// The whole Mamba-2 model's loss and gradients against PyTorch (transformers `Mamba2ForCausalLM`,
/// `model(ids, labels=ids).loss.backward()` through its CPU `torch_forward` (chunked SSD), in float64:
/// Tests/Fixtures/gradients-mamba2, written by scripts/fixtures/mamba2_gradients.py) on the tiny fixtures:
/// tiny_a (n_groups 1, tied) and tiny_b (n_groups 2, untied, biases, time_step_limit clamping), at L = 40
/// and 150 (chunk_size 16: 2.5 and 9.4 chunks).
///
/// Tolerances as MambaGradientTests: loss 1e-5 absolute; per tensor max |Δ| ≤ 2e-5·max|g| + 1e-8.
/// PyTorch's own float32 gradients differ from the float64 ones by up to 2.5e-6 of the scale
/// (gradients-mamba2/manifest.json); ours are Float32 with sums in another order, so a few 1e-6 is expected.
final class Mamba2GradientTests: XCTestCase {
    static let fixtures = MambaGradientTests.fixtures

    static func parameters(_ name: String) throws -> Mamba2Parameters {
        try Mamba2Parameters(directory: ModelDirectory(fixtures.appendingPathComponent("mamba2/\(name)")))
    }

    func testGradientsMatchPyTorch() throws {
        // Checkpoints every 32 positions (2 SSD chunks): 2 and 5 of them, the last one partial.
        try GoldenGradients.checkBaseModels(["tiny_a", "tiny_b"], folder: Self.fixtures.appendingPathComponent("gradients-mamba2"),
                                            scanChunk: 32, title: "Mamba2 gradients vs PyTorch", parameters: Self.parameters)
    }

    /// The training forward is the inference forward: the same logits as `Mamba2Model`, bit for bit (the
    /// checkpoint spacing is rounded up to a multiple of chunk_size: scanChunk 20 → 32, so the same SSD
    /// chunks and the same ops in order run).
    func testTrainingForwardEqualsInferenceForward() throws {
        for name in ["tiny_a", "tiny_b"] {
            let directory = try ModelDirectory(Self.fixtures.appendingPathComponent("mamba2/\(name)"))
            try MambaGradientTests.assertTrainingForwardEqualsInference(name, model: Mamba2Model(directory: directory),
                                                                        parameters: Mamba2Parameters(directory: directory),
                                                                        scanChunk: 20)
        }
    }

    /// Recomputing each block's tape in the backward changes no arithmetic.
    func testRecomputedLayersGiveIdenticalGradients() throws {
        let p = try Self.parameters("tiny_b")
        let ids = (0..<33).map { ($0 * 11 + 3) % p.configuration.vocabularySize }
        let (l1, g1) = Mamba2Gradients.lossAndGradients(p, ids: ids, options: TrainingOptions(scanChunk: 16))
        let (l2, g2) = Mamba2Gradients.lossAndGradients(p, ids: ids, options: TrainingOptions(scanChunk: 16, recomputeLayers: true))
        XCTAssertEqual(l1, l2)
        for ((name, a), (_, b)) in zip(g1.named, g2.named) { XCTAssertEqual(a.data, b.data, name) }
        print("Mamba2 recomputeLayers: loss and all \(g1.named.count) gradients bit-identical (tolerance 0)")
    }

    /// Explicit targets: nil rows add no loss, and the default is next-token (labels = input_ids).
    func testTargets() throws {
        let p = try Self.parameters("tiny_a")
        let ids = (0..<20).map { ($0 * 13 + 1) % p.configuration.vocabularySize }
        let byDefault = Mamba2Gradients.lossAndGradients(p, ids: ids, options: TrainingOptions(scanChunk: 16)).loss
        let explicit = Mamba2Gradients.lossAndGradients(p, ids: ids, targets: MambaGradients.nextTokenTargets(ids),
                                                        options: TrainingOptions(scanChunk: 16)).loss
        XCTAssertEqual(byDefault, explicit)
        let none = Mamba2Gradients.lossAndGradients(p, ids: ids, targets: ids.map { _ in nil })
        XCTAssertEqual(none.loss, 0)
        XCTAssertTrue(none.gradients.named.allSatisfy { $0.1.data.allSatisfy { $0 == 0 } }, "no target, no gradient")
    }

    /// `named` lists exactly the checkpoint's tensors (names and shapes of `Mamba2Model.expectedWeights`).
    func testNamedMatchesCheckpointNames() throws {
        for name in ["tiny_a", "tiny_b"] {
            let p = try Self.parameters(name)
            let expected = Mamba2Model.expectedWeights(p.configuration)
            XCTAssertEqual(Dictionary(uniqueKeysWithValues: p.named.map { ($0.0, $0.1.shape) }), expected, name)
        }
    }
}
