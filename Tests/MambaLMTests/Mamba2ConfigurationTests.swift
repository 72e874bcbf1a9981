import XCTest
@testable import MambaLM
import TensorCore

/// config.json of Mamba-2 in its spellings: Hugging Face `Mamba2Config` (transformers 4.x and 5.x),
/// the original state-spaces layout (`ssm_cfg.layer = "Mamba2"`, as the official ReMamba2 checkpoint),
/// and the values that must be refused.
final class Mamba2ConfigurationTests: XCTestCase {
    let hf: [String: Any] = [
        "model_type": "mamba2", "hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 251, "num_heads": 8,
        "head_dim": 16, "n_groups": 2, "state_size": 16, "expand": 2, "conv_kernel": 4, "chunk_size": 16,
        "time_step_limit": [0.0, ["__float__": "Infinity"]], "eos_token_id": [0, 2], "norm_before_gate": true,
        "rms_norm": true, "time_step_rank": 4, "tie_word_embeddings": true,
    ]

    func parse(_ object: [String: Any]) throws -> ModelConfiguration {
        try ModelConfiguration.parse(object, path: "config.json", lenient: false)
    }

    func testHuggingFaceKeys() throws {
        let c = try XCTUnwrap(try parse(hf).mamba2)
        XCTAssertNil(try parse(hf).mamba)
        XCTAssertEqual([c.innerSize, c.convolutionDimension, c.inProjectionSize, c.normGroupSize], [128, 192, 328, 64])
        XCTAssertEqual(c.timeStepLimit, 0...Float.infinity)
        XCTAssertEqual(c.eosTokenID, 0, "a list of eos ids keeps the first")
        // transformers computes norm(y · SiLU(z)) whatever norm_before_gate says; so does the engine.
        XCTAssertFalse(c.normBeforeGate)
        var finite = hf
        finite["time_step_limit"] = [0.01, 0.5]
        XCTAssertEqual(try parse(finite).mamba2?.timeStepLimit, 0.01...0.5)
    }

    /// transformers 4.x writes the bare (non-JSON) token `Infinity`.
    func testBareInfinityOfTransformers4() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mamba2-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("config.json")
        try Data(#"{"model_type": "mamba2", "hidden_size": 64, "num_hidden_layers": 1, "vocab_size": 10, "num_heads": 8, "head_dim": 16, "n_groups": 1, "_name_or_path": "NaN Infinity", "time_step_limit": [0.0, Infinity]}"#.utf8).write(to: url)
        let c = try XCTUnwrap(try ModelConfiguration.load(url).mamba2)
        XCTAssertEqual(c.timeStepLimit.upperBound, .infinity)
    }

    /// The official ReMamba2 checkpoint's config (mamba_ssm layout): vocab padded to a multiple of 8,
    /// heads = expand · d_model / headdim, tied, and its weights load (the ReMamba tensors left unread).
    func testOriginalLayoutOfTheOfficialReMamba2Checkpoint() throws {
        let directory = Fixtures.official.appendingPathComponent("models/remamba2_a")
        let configuration = try ModelConfiguration.load(directory.appendingPathComponent("config.json"))
        let c = try XCTUnwrap(configuration.mamba2)
        XCTAssertEqual([c.vocabularySize, c.hiddenSize, c.numberOfLayers, c.numberOfHeads, c.headDimension, c.numberOfGroups,
                        c.stateSize, c.convolutionKernel, c.chunkSize, c.inProjectionSize], [256, 64, 2, 8, 16, 1, 16, 4, 256, 296])
        XCTAssertTrue(c.tieWordEmbeddings)
        XCTAssertFalse(c.normBeforeGate)
        XCTAssertEqual(configuration.compressionDefaults?.ratio, 0.1)
        let model = try ModelLoader.load(ModelDirectory(directory))
        XCTAssertTrue(model is Mamba2Model)
    }

    func testOriginalLayoutHonoursNormBeforeGate() throws {
        let original: [String: Any] = ["d_model": 32, "n_layer": 1, "vocab_size": 50, "pad_vocab_size_multiple": 16,
                                       "ssm_cfg": ["layer": "Mamba2", "headdim": 8, "d_state": 4, "norm_before_gate": true]]
        let c = try XCTUnwrap(try parse(original).mamba2)
        XCTAssertTrue(c.normBeforeGate)
        XCTAssertEqual([c.vocabularySize, c.numberOfHeads, c.numberOfGroups, c.stateSize, c.chunkSize], [64, 8, 1, 4, 256])
    }

    func testRefusedValues() {
        func refuses(_ edit: (inout [String: Any]) -> Void, mentioning key: String, file: StaticString = #filePath, line: UInt = #line) {
            var object = hf
            edit(&object)
            XCTAssertThrowsError(try parse(object), file: file, line: line) { error in
                print("expected error: \(error)")
                XCTAssertTrue("\(error)".contains(key), "\(error)", file: file, line: line)
            }
        }
        refuses({ $0["num_heads"] = 6 }, mentioning: "num_heads")               // 6 × 16 ≠ 2 × 64
        refuses({ $0["n_groups"] = 3 }, mentioning: "n_groups")                 // does not divide 8 heads
        refuses({ $0["chunk_size"] = 0 }, mentioning: "chunk_size")
        refuses({ $0["time_step_limit"] = [0.5, 0.1] }, mentioning: "time_step_limit")
        refuses({ $0["time_step_limit"] = [-1.0, 1.0] }, mentioning: "time_step_limit")
        refuses({ $0["num_head"] = 8 }, mentioning: "num_head")                 // misspelled key
        refuses({ $0["hidden_act"] = "gelu" }, mentioning: "hidden_act")
        refuses({ $0["model_type"] = "mamba3" }, mentioning: "mamba3")
        refuses({ $0 = ["d_model": 32, "n_layer": 1, "vocab_size": 50, "ssm_cfg": ["layer": "Mamba2", "headdim": 8, "dt_rnak": 1]] },
                mentioning: "ssm_cfg.dt_rnak")
        refuses({ $0 = ["d_model": 32, "n_layer": 1, "vocab_size": 50, "ssm_cfg": ["layer": "Mamba2", "headdim": 8, "d_ssm": 16]] },
                mentioning: "d_ssm")
    }
}
