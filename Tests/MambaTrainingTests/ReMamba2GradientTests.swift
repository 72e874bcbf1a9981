import XCTest
import Foundation
import MambaLM
@testable import MambaTraining
import TensorCore

/// ReMamba2 training loss and gradients against PyTorch autograd in float64 (Tests/Fixtures/remamba2-gradients,
/// written by scripts/fixtures/remamba2_gradients.py, whose forward first reproduces the official ReMamba2 outputs)
/// on the official tiny model remamba2_a: both stages, s = 0 and s > 0, L = 40, 70 and 150, response-only and
/// next-token targets, the α-gradient scaling off (the Mamba-2 default) and on. The model's chunk_size (256) is
/// set to 16 here, so the chunked SSD spans up to 10 chunks (the goldens run the recurrence: chunk-independent).
///
/// Tolerances as ReMambaGradientTests. Loss: 1e-5 absolute (losses ≈ 20). Gradients: per tensor,
/// max |Δ| ≤ 3e-5·max|g| + 1e-8 (Float32 through two stacks of blocks and the cosine).
final class ReMamba2GradientTests: XCTestCase {
    static let fixtures = MambaGradientTests.fixtures

    /// The official remamba2_a with chunk_size 16.
    static func parameters() throws -> ReMambaParameters<Mamba2Parameters> {
        let directory = try ModelDirectory(fixtures.appendingPathComponent("remamba-official/models/remamba2_a"))
        var (weights, c) = try Mamba2Parameters.loadWeights(directory, reMamba: true)
        c.chunkSize = 16
        return ReMambaParameters(weights: weights, configuration: c)
    }

    func testGradientsMatchPyTorch() throws {
        try GoldenGradients.checkReMambaCases(Self.parameters(), folder: Self.fixtures.appendingPathComponent("remamba2-gradients"),
                                              model: "remamba2_a", minimumCases: 3, title: "ReMamba2 gradients vs PyTorch")
    }

    /// The α-gradient scaling defaults to off for Mamba-2 (on for Mamba-1), and on is visibly different.
    func testImportanceScalingDefaultsOffForMamba2() throws {
        XCTAssertFalse(Mamba2Parameters.officialScalesImportanceGradient)
        XCTAssertTrue(MambaParameters.officialScalesImportanceGradient)
        let p = try Self.parameters()
        let ids = (0..<40).map { ($0 * 31 + 11) % 256 }
        let settings = CompressionSettings(start: 0, length: 0.5, ratio: 0.2)
        let (_, byDefault) = try ReMambaGradients.lossAndGradients(p, ids: ids, promptLength: 30, settings: settings)
        let (_, off) = try ReMambaGradients.lossAndGradients(p, ids: ids, promptLength: 30, settings: settings, scaleImportanceGradient: false)
        let (_, on) = try ReMambaGradients.lossAndGradients(p, ids: ids, promptLength: 30, settings: settings, scaleImportanceGradient: true)
        for ((name, a), (_, b)) in zip(byDefault.named, off.named) { XCTAssertEqual(a.data, b.data, name) }
        let scale = off.key.weight2.data.reduce(Float(0)) { max($0, abs($1)) }
        let d = on.key.weight2.maxAbsDifference(off.key.weight2)
        print("ReMamba2 α-gradient scaling on vs off: K_proj.2.weight max |Δ| = \(d), scale \(scale) (must exceed 1e-2·scale)")
        XCTAssertGreaterThan(d, 1e-2 * scale)
    }

    /// Recomputing the blocks' tapes in the backward (both stages) changes no arithmetic.
    func testRecomputedLayersGiveIdenticalGradients() throws {
        try ReMambaGradientTests.assertRecomputedLayersChangeNothing(Self.parameters(), vocabularySize: 256, label: "ReMamba2")
    }

    /// The official fine-tuning's start from a plain Mamba2 (the same code as Mamba-1's): Key/Query from layer 0's
    /// in_proj rows, Value from its out_proj columns, biases and Θ (one per head) zero; a complete, trainable ReMamba2.
    func testInitialisationFromAPlainMamba2() throws {
        let base = try Mamba2GradientTests.parameters("tiny_a")
        let p = ReMambaParameters(base: base)
        let d = base.configuration.hiddenSize
        XCTAssertEqual(p.key.weight0.data, base.layers[0].inProjection.rows(0..<d).data)
        XCTAssertEqual(p.query.weight2.data, base.layers[0].inProjection.rows((3 * d)..<(4 * d)).data)
        XCTAssertEqual(p.value.weight2.data[0], base.layers[0].outProjection.data[d])
        XCTAssertEqual(p.deltaOffsets.map(\.shape), base.layers.map { _ in [base.configuration.numberOfHeads] })
        XCTAssert(p.deltaOffsets.allSatisfy { $0.data.allSatisfy { $0 == 0 } } && p.key.bias0.data.allSatisfy { $0 == 0 })
        XCTAssertEqual(p.named.count, base.named.count + 12 + base.layers.count)
        let ids = (0..<30).map { ($0 * 7 + 1) % base.configuration.vocabularySize }
        let (loss, g) = try ReMambaGradients.lossAndGradients(p, ids: ids, promptLength: 24,
                                                              settings: CompressionSettings(start: 0, length: 0.3, ratio: 0.3))
        XCTAssert(loss.isFinite && g.key.weight0.data.contains { $0 != 0 } && g.deltaOffsets[0].data.contains { $0 != 0 })
    }
}
