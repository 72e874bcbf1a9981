import XCTest
@testable import MambaLM

/// config.json of Llama in both transformers spellings, and what must be refused by name.
final class LlamaConfigurationTests: XCTestCase {
    let base: [String: Any] = [
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 32000, "hidden_size": 3200,
        "intermediate_size": 8640, "num_hidden_layers": 26, "num_attention_heads": 32, "rms_norm_eps": 1e-6,
        "max_position_embeddings": 2048, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "hidden_act": "silu",
        "tie_word_embeddings": false, "torch_dtype": "float16", "transformers_version": "4.28.0.dev0", "use_cache": true,
        "initializer_range": 0.02,
    ]

    func parse(_ object: [String: Any]) throws -> LlamaConfiguration {
        try XCTUnwrap(try ModelConfiguration.parse(object, path: "config.json", lenient: false).llama)
    }

    func expectRefusal(_ object: [String: Any], mentioning words: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ModelConfiguration.parse(object, path: "config.json", lenient: false), file: file, line: line) { error in
            let text = "\(error)"
            print("expected error: \(text)")
            for word in words { XCTAssertTrue(text.contains(word), "\(text) should mention \(word)", file: file, line: line) }
        }
    }

    /// OpenLLaMA 3B's config.json (transformers 4.28): no num_key_value_heads, rope_theta or rope_scaling.
    func testOpenLLaMA3BConfiguration() throws {
        let c = try parse(base)
        XCTAssertEqual([c.numberOfKeyValueHeads, c.headDimension, c.maxPositionEmbeddings, c.padTokenID ?? -1], [32, 100, 2048, 0])
        XCTAssertEqual(c.rotary, RotaryConfiguration(theta: 10000, scaling: .none))
    }

    func testBothRotarySpellings() throws {
        var legacy = base
        legacy["rope_theta"] = 500000.0
        legacy["rope_scaling"] = ["type": "linear", "factor": 4.0]
        legacy["pretraining_tp"] = 1
        var current = base
        current["rope_parameters"] = ["rope_type": "linear", "factor": 4.0, "rope_theta": 500000.0]
        XCTAssertEqual(try parse(legacy).rotary, RotaryConfiguration(theta: 500000, scaling: .linear(factor: 4)))
        XCTAssertEqual(try parse(current).rotary, try parse(legacy).rotary)
        var null = base
        null["rope_scaling"] = NSNull()
        XCTAssertEqual(try parse(null).rotary.scaling, .none)
        var llama3 = base
        llama3["rope_scaling"] = ["rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                  "original_max_position_embeddings": 8192]
        XCTAssertEqual(try parse(llama3).rotary.scaling, .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalMaxPositions: 8192))
    }

    func testRefusedByName() {
        var unknownType = base
        unknownType["model_type"] = "mistral"
        expectRefusal(unknownType, mentioning: ["model_type", "mistral"])
        var yarn = base
        yarn["rope_scaling"] = ["rope_type": "yarn", "factor": 4.0]
        expectRefusal(yarn, mentioning: ["rope_type", "yarn"])
        var extra = base
        extra["rope_scaling"] = ["rope_type": "linear", "factor": 2.0, "attention_factor": 0.5]
        expectRefusal(extra, mentioning: ["attention_factor"])
        var gelu = base
        gelu["hidden_act"] = "gelu"
        expectRefusal(gelu, mentioning: ["hidden_act", "gelu"])
        var typo = base
        typo["num_key_value_head"] = 8
        expectRefusal(typo, mentioning: ["num_key_value_head"])
        var groups = base
        groups["num_key_value_heads"] = 5
        expectRefusal(groups, mentioning: ["num_key_value_heads", "5"])
        var odd = base
        odd["head_dim"] = 7
        expectRefusal(odd, mentioning: ["head_dim"])
        var missing = base
        missing["intermediate_size"] = nil
        expectRefusal(missing, mentioning: ["intermediate_size"])
    }

    /// Strict loading: a missing tensor, a wrong shape and a leftover one are refused by key.
    func testStrictWeights() throws {
        let source = Fixtures.root.appendingPathComponent("llama/llama_b")
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("llama_b")
        try FileManager.default.copyItem(at: source, to: copy)
        try Corruption.editJSON(copy) { $0["mlp_bias"] = false }
        XCTAssertThrowsError(try ModelLoader.load(ModelDirectory(copy))) { error in
            XCTAssertTrue("\(error)".contains("mlp.down_proj.bias"), "\(error)")
        }
        try Corruption.editJSON(copy) { $0["mlp_bias"] = true; $0["intermediate_size"] = 81 }
        XCTAssertThrowsError(try ModelLoader.load(ModelDirectory(copy))) { error in
            XCTAssertTrue("\(error)".contains("has shape [64, 80], expected [64, 81]"), "\(error)")
        }
        try Corruption.editJSON(copy) { $0["intermediate_size"] = 80; $0["num_hidden_layers"] = 2 }
        XCTAssertThrowsError(try ModelLoader.load(ModelDirectory(copy))) { error in
            // Found on the headers before any name is listed (ModelFootprint.verifyLayers).
            XCTAssertTrue("\(error)".contains("config.json has 2 layers") && "\(error)".contains("the weights have 3"), "\(error)")
        }
        try Corruption.editJSON(copy) { $0["num_hidden_layers"] = 3 }
        XCTAssertNoThrow(try ModelLoader.load(ModelDirectory(copy)))
        XCTAssertThrowsError(try ModelLoader.load(ModelDirectory(copy), compression: .paperDefault)) { error in
            XCTAssertTrue("\(error)".contains("--remamba"), "\(error)")
        }
    }
}
