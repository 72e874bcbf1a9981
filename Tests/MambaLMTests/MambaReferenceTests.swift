import XCTest
@testable import MambaLM
import TensorCore

/// The Swift model against Hugging Face `MambaForCausalLM` (transformers, float32, CPU) on tiny random
/// models. Tolerance 1e-4 absolute on logits of magnitude ≲ 10: float32 rounding of a few hundred
/// sequential scan steps and of sums in a different order (BLAS) stays near 1e-5.
final class MambaReferenceTests: XCTestCase {
    static let tolerance: Float = 1e-4
    static let models = ["tiny_a", "tiny_b", "tiny_c", "tiny_b_sharded", "tiny_c_original"]

    /// The reference outputs belonging to a model directory (the sharded / original copies share them).
    func outputsName(_ model: String) -> String { String(model.split(separator: "_").prefix(2).joined(separator: "_")) }

    func testLogitsAndHiddenStatesMatchTransformers() throws {
        for name in Self.models {
            let model = try Fixtures.model(name)
            let reference = try Fixtures.outputs(outputsName(name))
            for length in [1, 7, 64, 300] {
                let ids = try reference.integers("input_ids.L\(length)")
                var state = model.makeState()
                let hidden = model.hiddenStates(model.embed(ids), state: &state)
                let logits = model.logits(hidden)
                let expectedLogits = try reference.tensor("logits.L\(length)")
                let dl = logits.maxAbsDifference(expectedLogits)
                let dh = hidden.maxAbsDifference(try reference.tensor("hidden.L\(length)"))
                print("\(name) L=\(length): max |Δlogits| = \(dl), max |Δhidden| = \(dh)")
                XCTAssertLessThanOrEqual(dl, Self.tolerance, "\(name) L=\(length) logits")
                XCTAssertLessThanOrEqual(dh, Self.tolerance, "\(name) L=\(length) hidden")
            }
        }
    }

    func testChunkedPrefillAndStepByStepEqualOneShot() throws {
        for name in ["tiny_a", "tiny_b", "tiny_c"] {
            var model = try Fixtures.model(name)
            let ids = try Fixtures.outputs(name).integers("input_ids.L300")
            let oneShot = try model.forward(ids)
            model.prefillChunk = 37
            let chunked = try model.forward(ids)
            var state = model.makeState()
            let stepped = Tensor.concatenateRows(ids.map { model.step($0, state: &state).reshaped([1, model.vocabularySize]) })
            print("\(name): chunked vs one-shot \(chunked.maxAbsDifference(oneShot)), steps vs one-shot \(stepped.maxAbsDifference(oneShot))")
            XCTAssertLessThanOrEqual(chunked.maxAbsDifference(oneShot), 1e-5)
            XCTAssertLessThanOrEqual(stepped.maxAbsDifference(oneShot), 1e-5)
        }
    }

    func testGreedyContinuationMatchesTransformers() throws {
        for name in ["tiny_a", "tiny_b", "tiny_c"] {
            let model = try Fixtures.model(name)
            let reference = try Fixtures.outputs(name)
            let prompt = try reference.integers("greedy.prompt")
            let expected = try reference.integers("greedy.tokens")
            var state = model.makeState()
            var logits = try model.prefill(prompt, state: &state)
            var tokens: [Int] = []
            for _ in expected.indices {
                let next = logits.data.indices.max { logits.data[$0] < logits.data[$1] }!
                tokens.append(next)
                logits = model.step(next, state: &state)
            }
            XCTAssertEqual(tokens, expected, name)
        }
    }

    /// F16 / BF16 checkpoints are converted to Float32 on load; the reference ran the same rounded
    /// weights in float32, so the tolerance is the Float32 one.
    func testHalfPrecisionCheckpointsMatch() throws {
        for name in ["tiny_a_f16", "tiny_a_bf16"] {
            let model = try Fixtures.model(name)
            let reference = try Fixtures.outputs(name)
            for length in [7, 64] {
                let logits = try model.forward(try reference.integers("input_ids.L\(length)"))
                let d = logits.maxAbsDifference(try reference.tensor("logits.L\(length)"))
                print("\(name) L=\(length): max |Δlogits| = \(d)")
                XCTAssertLessThanOrEqual(d, Self.tolerance)
            }
        }
    }
}
