import XCTest
@testable import MambaLM
import TensorCore

/// The Swift Llama against Hugging Face `LlamaForCausalLM` (transformers 5.25, float32, CPU) on tiny
/// random models (Tests/Fixtures/llama, scripts/fixtures/llama.py): MHA and GQA/MQA, tied and untied,
/// biases, rotary default / linear / dynamic / llama3, vocabularies 251, 300, 97, 203 (none a multiple of 8).
/// Tolerance 1e-4 absolute on logits of magnitude ≲ 10.
final class LlamaReferenceTests: XCTestCase {
    static let tolerance: Float = 1e-4
    static let models = ["llama_a", "llama_b", "llama_c", "llama_d", "llama_b_sharded", "llama_b_legacy"]

    static func directory(_ name: String) throws -> ModelDirectory { try ModelDirectory(Fixtures.root.appendingPathComponent("llama/\(name)")) }
    static func model(_ name: String) throws -> LlamaModel { try LlamaModel(directory: directory(name)) }
    static func outputs(_ name: String) throws -> SafetensorsFile {
        let base = name.hasPrefix("llama_b_") ? "llama_b" : name
        return try SafetensorsFile(path: Fixtures.root.appendingPathComponent("llama/\(base).outputs.safetensors").path)
    }

    func testLogitsMatchTransformers() throws {
        for name in Self.models + ["llama_a_f16", "llama_a_bf16"] {
            var model = try Self.model(name)
            model.prefillChunk = 1000   // one pass, as transformers' forward (dynamic rotary depends on it)
            let reference = try Self.outputs(name)
            for length in [1, 7, 64, 300] {
                let logits = try model.forward(try reference.integers("input_ids.L\(length)"))
                let d = logits.maxAbsDifference(try reference.tensor("logits.L\(length)"))
                print("\(name) L=\(length): max |Δlogits| = \(d)")
                XCTAssertLessThanOrEqual(d, Self.tolerance, "\(name) L=\(length)")
            }
        }
    }

    /// Chunked prefill and one-token steps against one pass over the whole sequence (the engine
    /// itself). Dynamic rotary scaling recomputes its frequencies per call from the length so far
    /// (as transformers' cache does), so past max_position_embeddings it depends on the chunking:
    /// llama_c (dynamic, max 64) is compared on its first 64 positions.
    func testChunkedPrefillAndStepsEqualOnePass() throws {
        for name in ["llama_a", "llama_b", "llama_c", "llama_d"] {
            var model = try Self.model(name)
            let all = try Self.outputs(name).integers("input_ids.L300")
            let ids = name == "llama_c" ? Array(all.prefix(64)) : all
            model.prefillChunk = 1000
            let onePass = try model.forward(ids)
            model.prefillChunk = 37
            let chunked = try model.forward(ids)
            var state = model.makeState()
            let stepped = Tensor.concatenateRows(ids.map { model.step($0, state: &state).reshaped([1, model.vocabularySize]) })
            print("\(name): chunked vs one pass \(chunked.maxAbsDifference(onePass)), steps vs one pass \(stepped.maxAbsDifference(onePass))")
            // Same arithmetic in another order (sgemm over 37 rows, or gemv for one, against one
            // pass): float32 rounding of logits with std ~2, measured up to 4.3e-5; the tolerance is
            // the one against transformers.
            XCTAssertLessThanOrEqual(chunked.maxAbsDifference(onePass), Self.tolerance, name)
            XCTAssertLessThanOrEqual(stepped.maxAbsDifference(onePass), Self.tolerance, name)
            XCTAssertEqual(state.position, ids.count)
            XCTAssertEqual(state.attention[0].count, ids.count)
        }
    }

    func testGreedyContinuationMatchesTransformers() throws {
        for name in ["llama_a", "llama_b", "llama_c", "llama_d"] {
            var model = try Self.model(name)
            model.prefillChunk = 3
            let reference = try Self.outputs(name)
            let expected = try reference.integers("greedy.tokens")
            var state = model.makeState()
            var logits = try model.prefill(try reference.integers("greedy.prompt"), state: &state)
            var tokens: [Int] = []
            for _ in expected.indices {
                tokens.append(Sampler.argmax(logits.data))
                logits = model.step(tokens.last!, state: &state)
            }
            XCTAssertEqual(tokens, expected, name)
        }
    }

    /// The generic loader builds the same model, and the batched step (the protocol's default) equals single steps.
    func testLoaderAndBatchedStep() throws {
        let loaded = try ModelLoader.load(Self.directory("llama_b"))
        XCTAssertTrue(loaded is LlamaModel)
        let ids = try Self.outputs("llama_b").integers("input_ids.L7")
        var states = [loaded.makeState(), loaded.makeState()]
        _ = try loaded.prefill(Array(ids.prefix(3)), state: &states[0])
        _ = try loaded.prefill(Array(ids.prefix(5)), state: &states[1])
        var singles = states
        let batched = loaded.step([ids[3], ids[5]], states: &states)
        let first = loaded.step(ids[3], state: &singles[0]), second = loaded.step(ids[5], state: &singles[1])
        XCTAssertEqual(batched.data, first.data + second.data)
        XCTAssertEqual(states, singles)
    }
}
