import XCTest
@testable import MambaLM
import TensorCore

extension Fixtures {
    static func mamba2(_ name: String) -> URL { root.appendingPathComponent("mamba2/\(name)") }
    static func mamba2Outputs(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(path: mamba2("\(name).outputs.safetensors").path)
    }
    static func mamba2Model(_ name: String) throws -> Mamba2Model { try Mamba2Model(directory: ModelDirectory(mamba2(name))) }
}

/// The Swift Mamba-2 against Hugging Face `Mamba2ForCausalLM` (transformers, float32, CPU, its chunked
/// torch path) on tiny random models (scripts/fixtures/mamba2.py): tiny_a (1 group, tied), tiny_b
/// (2 groups, untied, biases, a finite time_step_limit that clamps a third of Δ), chunk_size 16 so that
/// L = 7, 64, 100 are shorter than, a multiple of, and not a multiple of a chunk.
/// Tolerance 1e-4 absolute on logits of magnitude ≲ 10: both sides are float32 with sums in different
/// orders (chunked SSD, BLAS); measured differences are ~1e-5.
final class Mamba2ReferenceTests: XCTestCase {
    static let tolerance: Float = 1e-4
    /// Twins inside the engine (chunked vs sequential scan, pieces vs one shot): same float32 math in
    /// another order, ≲ 1e-5 on logits of magnitude ≲ 10.
    static let twinTolerance: Float = 2e-5

    func outputsName(_ model: String) -> String { model == "tiny_a_original" ? "tiny_a" : model }

    func testLogitsAndHiddenStatesMatchTransformers() throws {
        for name in ["tiny_a", "tiny_b", "tiny_a_original"] {
            let model = try Fixtures.mamba2Model(name)
            let reference = try Fixtures.mamba2Outputs(outputsName(name))
            for length in [1, 7, 64, 100] {
                let ids = try reference.integers("input_ids.L\(length)")
                var state = model.makeState()
                let hidden = model.hiddenStates(model.embed(ids), state: &state)
                let dl = model.logits(hidden).maxAbsDifference(try reference.tensor("logits.L\(length)"))
                let dh = hidden.maxAbsDifference(try reference.tensor("hidden.L\(length)"))
                print("Mamba2 \(name) L=\(length): max |Δlogits| = \(dl), max |Δhidden| = \(dh) (tolerance \(Self.tolerance))")
                XCTAssertLessThanOrEqual(dl, Self.tolerance, "\(name) L=\(length) logits")
                XCTAssertLessThanOrEqual(dh, Self.tolerance, "\(name) L=\(length) hidden")
            }
        }
    }

    /// The state after 100 tokens is transformers' cache: conv [E + 2GN, k], ssm [H, P, N] as [H·P, N].
    func testFinalStateMatchesTransformersCache() throws {
        for name in ["tiny_a", "tiny_b"] {
            let model = try Fixtures.mamba2Model(name)
            let reference = try Fixtures.mamba2Outputs(name)
            var state = model.makeState()
            _ = try model.prefill(try reference.integers("input_ids.L100"), state: &state)
            for (i, layer) in state.layers.enumerated() {
                let dc = layer.conv.maxAbsDifference(try reference.tensor("state.conv.\(i)"))
                let ds = layer.ssm.maxAbsDifference(try reference.tensor("state.ssm.\(i)"))
                print("Mamba2 \(name) layer \(i) state after L=100: max |Δconv| = \(dc), max |Δssm| = \(ds) (tolerance \(Self.tolerance))")
                XCTAssertLessThanOrEqual(dc, Self.tolerance)
                XCTAssertLessThanOrEqual(ds, Self.tolerance)
            }
        }
    }

    /// Chunked SSD in one call == the sequential recurrence == prompts in pieces of 37 == token by token.
    func testChunkedSequentialAndStepByStepAgree() throws {
        for name in ["tiny_a", "tiny_b"] {
            var model = try Fixtures.mamba2Model(name)
            let ids = try Fixtures.mamba2Outputs(name).integers("input_ids.L100")
            let oneShot = try model.forward(ids)
            model.scan = .sequential
            let sequential = try model.forward(ids)
            model.scan = .chunked
            model.prefillChunk = 37
            let pieces = try model.forward(ids)
            var state = model.makeState()
            let stepped = Tensor.concatenateRows(ids.map { model.step($0, state: &state).reshaped([1, model.vocabularySize]) })
            for (label, other) in [("sequential", sequential), ("pieces of 37", pieces), ("step by step", stepped)] {
                let d = other.maxAbsDifference(oneShot)
                print("Mamba2 \(name): \(label) vs chunked one-shot: max |Δlogits| = \(d) (tolerance \(Self.twinTolerance))")
                XCTAssertLessThanOrEqual(d, Self.twinTolerance, "\(name) \(label)")
            }
        }
    }

    func testGreedyContinuationMatchesTransformers() throws {
        for name in ["tiny_a", "tiny_b"] {
            let model = try Fixtures.mamba2Model(name)
            let reference = try Fixtures.mamba2Outputs(name)
            let expected = try reference.integers("greedy.tokens")
            let expectedLogits = try reference.tensor("greedy.logits")
            var state = model.makeState()
            var logits = try model.prefill(try reference.integers("greedy.prompt"), state: &state)
            var tokens: [Int] = []
            var rows: [Tensor] = []
            for _ in expected.indices {
                rows.append(logits.reshaped([1, model.vocabularySize]))
                let next = logits.data.indices.max { logits.data[$0] < logits.data[$1] }!
                tokens.append(next)
                logits = model.step(next, state: &state)
            }
            let d = Tensor.concatenateRows(rows).maxAbsDifference(expectedLogits)
            print("Mamba2 \(name) greedy: \(tokens.count) tokens, max |Δlogits| = \(d) (tolerance \(Self.tolerance))")
            XCTAssertEqual(tokens, expected, name)
            XCTAssertLessThanOrEqual(d, Self.tolerance, name)
        }
    }

    /// F16 / BF16 checkpoints are converted to Float32 on load; the reference ran the same rounded
    /// weights in float32, so the tolerance is the Float32 one. (tiny_a_bf16's config spells
    /// time_step_limit with the bare `Infinity` of transformers 4.x.)
    func testHalfPrecisionCheckpointsMatch() throws {
        for name in ["tiny_a_f16", "tiny_a_bf16"] {
            let model = try Fixtures.mamba2Model(name)
            let reference = try Fixtures.mamba2Outputs(name)
            for length in [7, 100] {
                let d = try model.forward(try reference.integers("input_ids.L\(length)"))
                    .maxAbsDifference(try reference.tensor("logits.L\(length)"))
                print("Mamba2 \(name) L=\(length): max |Δlogits| = \(d) (tolerance \(Self.tolerance))")
                XCTAssertLessThanOrEqual(d, Self.tolerance)
            }
        }
    }

    func testModelLoaderBuildsMamba2() throws {
        let model = try ModelLoader.load(ModelDirectory(Fixtures.mamba2("tiny_b")))
        XCTAssertTrue(model is Mamba2Model)
        XCTAssertThrowsError(try MambaModel(directory: ModelDirectory(Fixtures.mamba2("tiny_b"))))
    }
}
