import XCTest
@testable import MambaLM
import TensorCore

/// The layers' decode step (`BackboneLayer.step`: one scratch buffer, column blocks read in place) against the
/// forward it replaces for one position, `forward` over one-row segments: the same kernels on the same numbers,
/// so equal bit for bit — hidden states and every layer's conv and SSM state — for a single sequence, a batch
/// the streaming kernel takes (5) and one that goes through sgemm (17), in F32 and stored types.
final class DecodeStepTests: XCTestCase {
    func testStepEqualsForwardOverOneRowSegments() throws {
        let mamba1 = try ModelDirectory(Fixtures.mamba1("tiny_a"))
        let mamba2 = try ModelDirectory(Fixtures.root.appendingPathComponent("mamba2/tiny_a"))
        for dtype in [nil, WeightType.q8_0, .bf16] {
            let label = dtype.map { "\($0)" } ?? "f32"
            let m1 = try XCTUnwrap(try ModelLoader.load(mamba1, dtype: dtype) as? MambaModel, label)
            let m2 = try XCTUnwrap(try ModelLoader.load(mamba2, dtype: dtype) as? Mamba2Model, label)
            for batch in [1, 5, 17] {
                try check(m1, batch: batch, label: "mamba1 \(label) B=\(batch)")
                try check(m2, batch: batch, label: "mamba2 \(label) B=\(batch)")
            }
        }
    }

    func check<Layer: BackboneLayer>(_ model: BackboneModel<Layer>, batch: Int, label: String) throws {
        let v = model.vocabularySize
        var stepped: [ModelState] = []
        for b in 0..<batch {
            var state = model.makeState()
            _ = try model.prefill((0..<(2 + 3 * b)).map { ($0 * 5 + b * 11 + 1) % v }, state: &state)
            stepped.append(state)
        }
        var forwarded = stepped
        let inputs = model.embed((0..<batch).map { ($0 * 17 + 3) % v })
        let viaStep = model.hiddenStates(inputs, states: &stepped)
        var h = inputs
        let segments = (0..<batch).map { $0..<($0 + 1) }
        for (i, layer) in model.layers.enumerated() {
            h = LayerState.withLayer(i, of: &forwarded) { layer.forward(h, states: &$0, segments: segments, options: model.options, adapt: nil) }
        }
        let viaForward = RMSNorm.forward(h, weight: model.finalNorm, epsilon: model.configuration.layerNormEpsilon)
        XCTAssertEqual(viaStep.data, viaForward.data, label)
        XCTAssertEqual(stepped.map(\.layers), forwarded.map(\.layers), label)
    }
}
