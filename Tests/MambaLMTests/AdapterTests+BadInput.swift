import XCTest
@testable import MambaLM
import TensorCore

/// Adapters that must be refused, each with an error naming the adapter file and the key.
extension AdapterTests {
    /// A scratch copy of fixture adapter `name`, with its config and tensors edited.
    func brokenCopy(_ name: String = "tiny_a_lora", config edit: (inout [String: Any]) -> Void = { _ in },
                    tensors rewrite: ((inout [(String, Tensor)]) -> Void)? = nil) throws -> URL {
        let url = try Fixtures.temporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        let source = Self.adapter(name)
        let configURL = url.appendingPathComponent(PEFTAdapter.configurationName)
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent(PEFTAdapter.configurationName))) as! [String: Any]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]).write(to: configURL)
        let weights = url.appendingPathComponent(PEFTAdapter.weightsName)
        let file = try SafetensorsFile(path: source.appendingPathComponent(PEFTAdapter.weightsName).path)
        var tensors = try file.names.map { ($0, try file.tensor($0)) }
        rewrite?(&tensors)
        try SafetensorsWriter.write(tensors.map { ($0.0, .float32($0.1)) }, to: weights)
        return url
    }

    /// Loads base `base` with the adapter at `url` and returns the error's message.
    func loadingError(_ url: URL, base: String = "tiny_a", file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try ModelLoader.load(ModelDirectory(Fixtures.mamba1(base)), adapter: PEFTAdapter(url))
            XCTFail("loaded", file: file, line: line)
            return ""
        } catch {
            print("refused as expected: \(error)")
            return "\(error)"
        }
    }

    func assertRefused(_ url: URL, base: String = "tiny_a", mentions parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        let message = loadingError(url, base: base, file: file, line: line)
        for part in parts { XCTAssertTrue(message.contains(part), "\"\(message)\" does not mention \"\(part)\"", file: file, line: line) }
    }

    func testMissingAdapterConfiguration() throws {
        let url = try brokenCopy()
        try FileManager.default.removeItem(at: url.appendingPathComponent(PEFTAdapter.configurationName))
        assertRefused(url, mentions: [url.appendingPathComponent("adapter_config.json").path, "no such file"])
    }

    func testMissingAdapterWeights() throws {
        let url = try brokenCopy()
        try FileManager.default.removeItem(at: url.appendingPathComponent(PEFTAdapter.weightsName))
        assertRefused(url, mentions: ["adapter_model.safetensors", "no such file"])
    }

    func testUnsupportedConfigurations() throws {
        let cases: [(String, Any, String)] = [
            ("peft_type", "IA3", "\"peft_type\" is \"IA3\""),
            ("use_dora", true, "use_dora"),
            ("fan_in_fan_out", true, "fan_in_fan_out"),
            ("lora_bias", true, "lora_bias"),
            ("rank_pattern", ["in_proj": 2], "rank_pattern"),
            ("alpha_pattern", ["in_proj": 2], "alpha_pattern"),
            ("layer_replication", [[0, 1]], "layer_replication"),
            ("init_lora_weights", "pissa", "init_lora_weights"),
            ("target_modules", ["in_proj", "conv1d"], "target module \"conv1d\""),
            ("target_modules", ["in_proj", "q_proj"], "target module \"q_proj\""),
            ("r", 0, "\"r\" is 0"),
        ]
        for (key, value, message) in cases {
            let url = try brokenCopy(config: { $0[key] = value })
            assertRefused(url, mentions: [url.appendingPathComponent("adapter_config.json").path, message])
        }
        let url = try brokenCopy(config: { $0["peft_type"] = nil })
        assertRefused(url, mentions: ["adapter_config.json", "missing required key \"peft_type\""])
    }

    func testWrongShape() throws {
        let key = "base_model.model.backbone.layers.0.mixer.in_proj.lora_A.weight"
        let url = try brokenCopy(tensors: { tensors in
            let i = tensors.firstIndex { $0.0 == key }!
            tensors[i].1 = Tensor(zeros: [4, 63])
        })
        assertRefused(url, mentions: [url.appendingPathComponent("adapter_model.safetensors").path, key, "[4, 63]", "expected [4, 64]"])
    }

    func testUnusedTensor() throws {
        let key = "base_model.model.backbone.layers.0.mixer.gate.weight"
        let url = try brokenCopy(tensors: { $0.append((key, Tensor(zeros: [2, 2]))) })
        assertRefused(url, mentions: ["adapter_model.safetensors", "unexpected tensor \"\(key)\""])
        // LoRA on a layer the base does not have (a 3-layer adapter on the 2-layer tiny_a).
        let extraLayer = try brokenCopy(tensors: { tensors in
            for (name, t) in tensors where name.contains("layers.1.mixer.in_proj.lora_") {
                tensors.append((name.replacingOccurrences(of: "layers.1.", with: "layers.2."), t))
            }
        })
        assertRefused(extraLayer, mentions: ["unexpected tensor \"base_model.model.backbone.layers.2.mixer.in_proj.lora_A.weight\""])
    }

    func testUnpairedAndUnknownLoRATensors() throws {
        let loneA = try brokenCopy(tensors: { $0.removeAll { $0.0.hasSuffix("layers.1.mixer.out_proj.lora_B.weight") } })
        assertRefused(loneA, mentions: ["out_proj.lora_A.weight", "no matching B"])
        let dora = try brokenCopy(tensors: { $0.append(("base_model.model.backbone.layers.0.mixer.in_proj.lora_magnitude_vector", Tensor(zeros: [256]))) })
        assertRefused(dora, mentions: ["lora_magnitude_vector", "not implemented"])
        let unprefixed = try brokenCopy(tensors: { $0.append(("backbone.norm_f.weight", Tensor(zeros: [64]))) })
        assertRefused(unprefixed, mentions: ["\"backbone.norm_f.weight\" is not named base_model.model."])
        let conv = try brokenCopy(tensors: { $0.append(contentsOf: [
            ("base_model.model.backbone.layers.0.mixer.conv1d.lora_A.weight", Tensor(zeros: [4, 1, 4])),
            ("base_model.model.backbone.layers.0.mixer.conv1d.lora_B.weight", Tensor(zeros: [128, 4, 1]))]) })
        assertRefused(conv, mentions: ["conv1d", "only nn.Linear and nn.Embedding"])
    }

    func testTiedCopiesMustAgree() throws {
        let url = try brokenCopy(tensors: { tensors in
            let i = tensors.firstIndex { $0.0 == "base_model.model.lm_head.base_layer.weight" }!
            tensors[i].1.data[0] += 1
        })
        assertRefused(url, mentions: ["different copies", "backbone.embeddings.weight"])
    }

    func testAdapterForADifferentModel() throws {
        // tiny_b's adapter (D 48, 3 layers, untied) on tiny_a (D 64, 2 layers, tied).
        assertRefused(Self.adapter("tiny_b_rslora"), mentions: ["tiny_b_rslora/adapter_model.safetensors", "has shape", "expected"])
        // and tiny_a's on tiny_b.
        assertRefused(Self.adapter("tiny_a_lora"), base: "tiny_b", mentions: ["tiny_a_lora/adapter_model.safetensors", "has shape"])
    }

    func testNotAnAdapterDirectory() {
        XCTAssertThrowsError(try PEFTAdapter(Fixtures.root.appendingPathComponent("adapters/nonexistent"))) { error in
            XCTAssertEqual(error as? LoadingError, .fileNotFound(path: Fixtures.root.appendingPathComponent("adapters/nonexistent").path))
        }
    }
}
