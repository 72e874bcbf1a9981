import XCTest
import Foundation
import TensorCore
@testable import MambaLM

/// Fresh weights: every expected tensor with its shape, the documented distributions, and a seed that
/// decides everything.
final class ModelInitializationTests: XCTestCase {
    let mamba = MambaConfiguration(vocabularySize: 97, hiddenSize: 32, stateSize: 8, numberOfLayers: 3)
    var configuration: ModelConfiguration { ModelConfiguration(architecture: .mamba(mamba), compressionDefaults: nil, modelType: "mamba") }

    func testMambaWeightsHaveEveryTensorAndTheirDistributions() throws {
        let w = ModelInitialization.weights(configuration, includeReMamba: true, seed: 3)
        var expected = MambaModel.expectedWeights(mamba)
        expected.merge(ReMambaModel<MambaModel>.expectedWeights(hiddenSize: 32, layers: 3, deltaOffsetSize: mamba.innerSize)) { a, _ in a }
        XCTAssertEqual(Set(w.tensors.keys), Set(expected.keys))
        for (name, shape) in expected { XCTAssertEqual(w[name].shape, shape, name) }
        // A = −(1 … N) in every channel (S4D-real).
        let aLog = w["backbone.layers.0.mixer.A_log"]
        for c in 0..<mamba.innerSize { for s in 0..<8 { XCTAssertEqual(aLog.data[c * 8 + s], Foundation.log(Float(s + 1)), accuracy: 1e-6) } }
        // softplus(dt bias) = the initial time step, in [0.001, 0.1].
        for b in w["backbone.layers.1.mixer.dt_proj.bias"].data {
            let dt = Foundation.log(1 + Foundation.exp(b))
            XCTAssertGreaterThanOrEqual(dt, 0.001 * 0.999); XCTAssertLessThanOrEqual(dt, 0.1 * 1.001)
        }
        XCTAssertTrue(w["backbone.layers.2.mixer.D"].data.allSatisfy { $0 == 1 })
        XCTAssertTrue(w["backbone.layers.2.mixer.ret_bias.param"].data.allSatisfy { $0 == 0 })
        // out_proj is U(±1/√fan_in) scaled by 1/√layers; embeddings N(0, 0.02²).
        let bound = 1 / Float(mamba.innerSize).squareRoot() / Float(3).squareRoot()
        let out = w["backbone.layers.0.mixer.out_proj.weight"].data
        XCTAssertLessThanOrEqual(out.map(abs).max()!, bound)
        XCTAssertGreaterThan(out.map(abs).max()!, 0.9 * bound)
        let embeddings = w["backbone.embeddings.weight"].data
        let std = (embeddings.map { Double($0 * $0) }.reduce(0, +) / Double(embeddings.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.002)
        // The model built from them runs and gives finite logits.
        let model = MambaModel(weights: w, configuration: mamba)
        var state = model.makeState()
        XCTAssertTrue(try model.prefill([1, 5, 9], state: &state).data.allSatisfy(\.isFinite))
    }

    func testTheSeedDecidesTheWeights() {
        let a = ModelInitialization.weights(configuration, includeReMamba: false, seed: 1)
        let b = ModelInitialization.weights(configuration, includeReMamba: false, seed: 1)
        let c = ModelInitialization.weights(configuration, includeReMamba: false, seed: 2)
        XCTAssertEqual(a.tensors, b.tensors)
        XCTAssertNotEqual(a["backbone.layers.0.mixer.in_proj.weight"], c["backbone.layers.0.mixer.in_proj.weight"])
    }

    func testMamba2WeightsHaveEveryTensor() {
        let c2 = Mamba2Configuration(vocabularySize: 50, hiddenSize: 32, stateSize: 16, numberOfLayers: 2,
                                     headDimension: 16, numberOfGroups: 1, tieWordEmbeddings: true)
        let w = ModelInitialization.weights(ModelConfiguration(architecture: .mamba2(c2), compressionDefaults: nil, modelType: "mamba2"),
                                            includeReMamba: true, seed: 0)
        for (name, shape) in Mamba2Model.expectedWeights(c2) { XCTAssertEqual(w.tensors[name]?.shape, shape, name) }
        XCTAssertEqual(w["backbone.layers.0.mixer.ret_bias.param"].shape, [c2.numberOfHeads])
        // Mamba2's A_log = log(U(1, 16)).
        XCTAssertTrue(w["backbone.layers.1.mixer.A_log"].data.allSatisfy { $0 >= 0 && $0 <= Foundation.log(16) })
    }
}
