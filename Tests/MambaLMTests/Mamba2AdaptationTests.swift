import XCTest
@testable import MambaLM
import TensorCore

/// The ReMamba2 hook of the Mamba-2 layer: at covered positions dt[t, h] ← dt[t, h]·α_t + Θ_l[h], before
/// dt_bias and softplus. Checked against equivalent weight edits (independent of the hook's code), for
/// locality in time, and for prompts in pieces and the sequential scan.
final class Mamba2AdaptationTests: XCTestCase {
    static let twinTolerance = Mamba2ReferenceTests.twinTolerance

    func weights(_ name: String) throws -> (WeightMap, Mamba2Configuration) {
        let directory = try ModelDirectory(Fixtures.mamba2(name))
        let c = try XCTUnwrap(directory.configuration.mamba2)
        return (try WeightMap.load(from: directory, expected: Mamba2Model.expectedWeights(c), sanitize: Mamba2Model.sanitize(c)), c)
    }

    func adaptation(_ c: Mamba2Configuration, positions: Range<Int>, alpha: Float, offset: (Int, Int) -> Float) -> SelectiveAdaptation {
        SelectiveAdaptation(positions: positions, alpha: [Float](repeating: alpha, count: positions.count),
                            deltaOffsets: (0..<c.numberOfLayers).map { l in
                                Tensor(shape: [c.numberOfHeads], data: (0..<c.numberOfHeads).map { offset(l, $0) })
                            })
    }

    func hidden(_ model: Mamba2Model, _ ids: [Int], _ adaptation: SelectiveAdaptation?) -> Tensor {
        var state = model.makeState()
        return model.hiddenStatesChunked(model.embed(ids), state: &state, adaptation: adaptation, keep: .all)
    }

    /// α = 1 with Θ_l everywhere is dt_bias + Θ_l; α = 0 with Θ = 0 everywhere is in_proj without its dt rows.
    func testRuleMatchesEquivalentWeights() throws {
        let (w, c) = try weights("tiny_b")
        let ids = try Fixtures.mamba2Outputs("tiny_b").integers("input_ids.L64")
        let model = Mamba2Model(weights: w, configuration: c)
        let theta: (Int, Int) -> Float = { l, h in 0.3 * Float(h % 5) - 0.5 + 0.1 * Float(l) }
        var shifted = w
        for l in 0..<c.numberOfLayers {
            let key = "backbone.layers.\(l).mixer.dt_bias"
            shifted.tensors[key]!.data = shifted[key].data.enumerated().map { $1 + theta(l, $0) }
        }
        let d1 = hidden(model, ids, adaptation(c, positions: 0..<64, alpha: 1, offset: theta))
            .maxAbsDifference(hidden(Mamba2Model(weights: shifted, configuration: c), ids, nil))
        var noDt = w
        let dtRows = (c.inProjectionSize - c.numberOfHeads)..<c.inProjectionSize
        for l in 0..<c.numberOfLayers {
            for suffix in ["weight", "bias"] {
                let key = "backbone.layers.\(l).mixer.in_proj.\(suffix)"
                guard var t = noDt.tensors[key] else { continue }
                let columns = suffix == "weight" ? c.hiddenSize : 1
                for r in dtRows { for j in 0..<columns { t.data[r * columns + j] = 0 } }
                noDt.tensors[key] = t
            }
        }
        let d0 = hidden(model, ids, adaptation(c, positions: 0..<64, alpha: 0, offset: { _, _ in 0 }))
            .maxAbsDifference(hidden(Mamba2Model(weights: noDt, configuration: c), ids, nil))
        print("Mamba2 adaptation: α=1, Θ vs dt_bias + Θ: \(d1); α=0 vs zero dt rows: \(d0) (tolerance \(Self.twinTolerance))")
        XCTAssertLessThanOrEqual(d1, Self.twinTolerance)
        XCTAssertLessThanOrEqual(d0, Self.twinTolerance)
    }

    /// Positions before the covered range are untouched (bit for bit); later ones change. α = 1, Θ = 0
    /// changes nothing.
    func testOnlyCoveredAndLaterPositionsChange() throws {
        let model = try Fixtures.mamba2Model("tiny_a")
        let c = model.configuration
        let ids = try Fixtures.mamba2Outputs("tiny_a").integers("input_ids.L64")
        let plain = hidden(model, ids, nil)
        let identity = hidden(model, ids, adaptation(c, positions: 20..<30, alpha: 1, offset: { _, _ in 0 }))
        XCTAssertEqual(identity.data, plain.data, "α = 1, Θ = 0 must be the identity")
        let adapted = hidden(model, ids, adaptation(c, positions: 20..<30, alpha: 0.6, offset: { _, h in Float(h) * 0.2 - 0.7 }))
        XCTAssertEqual(adapted.rows(0..<20).data, plain.rows(0..<20).data, "positions before the range")
        let later = adapted.rows(20..<64).maxAbsDifference(plain.rows(20..<64))
        print("Mamba2 adaptation at 20..<30: max |Δhidden| from position 20 on = \(later) (must be > 1e-3)")
        XCTAssertGreaterThan(later, 1e-3)
    }

    /// The absolute positions survive prompts in pieces (cut inside the range) and the sequential scan.
    func testPiecesAndSequentialScanAgree() throws {
        var model = try Fixtures.mamba2Model("tiny_b")
        let c = model.configuration
        let ids = try Fixtures.mamba2Outputs("tiny_b").integers("input_ids.L100")
        let a = adaptation(c, positions: 30..<47, alpha: 0.4, offset: { l, h in 0.25 * Float((h + l) % 4) - 0.3 })
        let whole = hidden(model, ids, a)
        model.prefillChunk = 37
        let pieces = hidden(model, ids, a)
        model.scan = .sequential
        let sequential = hidden(model, ids, a)
        let (dp, ds) = (pieces.maxAbsDifference(whole), sequential.maxAbsDifference(whole))
        print("Mamba2 adaptation: pieces of 37 vs one shot \(dp), sequential vs chunked \(ds) (tolerance \(Self.twinTolerance))")
        XCTAssertLessThanOrEqual(dp, Self.twinTolerance)
        XCTAssertLessThanOrEqual(ds, Self.twinTolerance)
    }

    /// A Mamba-2 state saves and loads like a Mamba one (conv [E + 2GN, k], ssm [H·P, N]).
    func testStateSaveAndRestore() throws {
        let model = try Fixtures.mamba2Model("tiny_b")
        var state = model.makeState()
        _ = try model.prefill(Array(0..<23), state: &state)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mamba2-state-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try state.save(to: url)
        let restored = try ModelState.load(from: url, like: model.makeState())
        XCTAssertEqual(restored, state)
        XCTAssertEqual(restored.layers[0].conv.shape, [96 + 2 * 2 * 8, 3])
        XCTAssertEqual(restored.layers[0].ssm.shape, [12 * 8, 8])
    }
}
