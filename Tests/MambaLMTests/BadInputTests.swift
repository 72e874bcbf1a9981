import Foundation
import XCTest
@testable import MambaLM
import TensorCore

/// Broken model directories (a copy of tiny_a, then damaged) must fail with the right `LoadingError`,
/// naming the file and the key, never crash; bad token ids and prompts fail with `ModelError`.
final class BadInputTests: XCTestCase {
    let weightsName = "model.safetensors"
    let inProjection = "backbone.layers.0.mixer.in_proj.weight"   // F32 [256, 64]
    let skip = "backbone.layers.1.mixer.D"                         // F32 [128]

    func copy() throws -> (directory: URL, weights: URL) {
        let directory = try copyOfFixture("tiny_a")
        return (directory, directory.appendingPathComponent(weightsName))
    }

    func corrupt(_ error: LoadingError) -> Bool { if case .corruptSafetensors = error { return true }; return false }

    // MARK: - safetensors bytes

    func testIntactCopyLoads() throws {
        let model = try MambaModel(directory: ModelDirectory(try copy().directory))
        XCTAssertEqual(model.vocabularySize, 251)
    }

    func testTruncatedInTheData() throws {
        let (directory, weights) = try copy()
        try Corruption.truncate(weights, to: try Data(contentsOf: weights).count / 2)
        // Some tensor (the first checked) ends past the shortened data section.
        assertLoadingFails(directory, mentions: [weights.path, "\"backbone.", "truncated"], corrupt)
    }

    func testTruncatedInsideTheHeader() throws {
        let (directory, weights) = try copy()
        try Corruption.truncate(weights, to: 8 + 1000)   // the header is 2192 bytes
        assertLoadingFails(directory, mentions: [weights.path, "header length"], corrupt)
        try Corruption.truncate(weights, to: 5)          // not even the length
        assertLoadingFails(directory, mentions: [weights.path, "8-byte"], corrupt)
    }

    func testHeaderLengthLargerThanTheFile() throws {
        let (directory, weights) = try copy()
        let size = try Data(contentsOf: weights).count
        for length in [UInt64(size), UInt64(Int.max), UInt64.max] {
            try RawSafetensors(Fixtures.mamba1("tiny_a/\(weightsName)")).write(to: weights, headerLength: length)
            assertLoadingFails(directory, mentions: [weights.path, "header length"], corrupt)
        }
    }

    func testHeaderThatIsNotJSON() throws {
        let (directory, weights) = try copy()
        var bytes = Data([16, 0, 0, 0, 0, 0, 0, 0])
        bytes.append(Data("{\"a\": [1, 2, 3".utf8) + Data(repeating: 0x20, count: 2))
        try bytes.write(to: weights)
        assertLoadingFails(directory, mentions: [weights.path, "JSON"], corrupt)
    }

    func testOverlappingOffsets() throws {
        let (directory, weights) = try copy()
        try RawSafetensors.edit(weights) { file in
            // D ([128] F32, 512 bytes) moved onto the start of the in_proj weight.
            let begin = file.offsets(self.inProjection)[0]
            file[self.skip]["data_offsets"] = [begin, begin + 512]
        }
        assertLoadingFails(directory, mentions: [weights.path, inProjection, skip, "overlap"], corrupt)
    }

    func testOffsetsOutOfRange() throws {
        let (directory, weights) = try copy()
        for offsets in [[1 << 20, (1 << 20) + 512], [-512, 0], [600, 88]] {
            try RawSafetensors.edit(weights) { file in file[self.skip]["data_offsets"] = offsets }
            assertLoadingFails(directory, mentions: [weights.path, skip], corrupt)
            try FileManager.default.removeItem(at: weights)
            try FileManager.default.copyItem(at: Fixtures.mamba1("tiny_a/\(weightsName)"), to: weights)
        }
    }

    func testByteCountDisagreesWithDTypeAndShape() throws {
        let (directory, weights) = try copy()
        try RawSafetensors.edit(weights) { file in file[self.skip]["shape"] = [127] }   // 508 bytes, spans 512
        assertLoadingFails(directory, mentions: [weights.path, skip, "512", "508"], corrupt)
        try RawSafetensors.edit(weights) { file in file[self.skip]["shape"] = [128]; file[self.skip]["dtype"] = "F16" }
        assertLoadingFails(directory, mentions: [weights.path, skip, "256"], corrupt)
    }

    /// A shape whose element count overflows Int must be refused, not trap.
    func testShapeWhoseSizeOverflows() throws {
        let (directory, weights) = try copy()
        try RawSafetensors.edit(weights) { file in file[self.skip]["shape"] = [1 << 40, 1 << 40] }
        assertLoadingFails(directory, mentions: [weights.path, skip], corrupt)
    }

    func testUnknownDType() throws {
        let (directory, weights) = try copy()
        for dtype in ["F8_E4M3", "Q4"] {
            try RawSafetensors.edit(weights) { file in file[self.skip]["dtype"] = dtype }
            assertLoadingFails(directory, mentions: [weights.path, skip, dtype]) { error in
                if case .unknownDType(weights.path, self.skip, dtype) = error { return true }
                return false
            }
        }
    }

    // MARK: - tensors against the configuration

    func testMissingTensor() throws {
        let (directory, weights) = try copy()
        try RawSafetensors.edit(weights) { file in file.header[self.skip] = nil }
        assertLoadingFails(directory, mentions: [directory.path, skip, "[128]"]) { error in
            error == .missingTensor(key: self.skip, expectedShape: [128], directory: directory.path)
        }
    }

    func testExtraTensor() throws {
        let (directory, weights) = try copy()
        let extra = "backbone.layers.0.mixer.gate_proj.weight"
        try RawSafetensors.edit(weights) { file in
            let begin = file.data.count
            file.data.append(Data(repeating: 0, count: 16))
            file[extra] = ["dtype": "F32", "shape": [2, 2], "data_offsets": [begin, begin + 16]]
        }
        assertLoadingFails(directory, mentions: [weights.path, extra]) { error in
            error == .unexpectedTensor(key: extra, path: weights.path)
        }
    }

    func testWrongShape() throws {
        let (directory, weights) = try copy()
        try RawSafetensors.edit(weights) { file in file[self.inProjection]["shape"] = [128, 128] }  // same byte count
        assertLoadingFails(directory, mentions: [weights.path, inProjection, "[128, 128]", "[256, 64]"]) { error in
            error == .wrongShape(key: self.inProjection, path: weights.path, expected: [256, 64], found: [128, 128])
        }
    }

    // MARK: - config.json

    func testConfigurationMissingARequiredKey() throws {
        for key in ["hidden_size", "vocab_size", "num_hidden_layers"] {
            let directory = try copy().directory
            try Corruption.editJSON(directory) { $0[key] = nil }
            let config = directory.appendingPathComponent("config.json").path
            assertLoadingFails(directory, mentions: [config, key]) { $0 == .missingKey(path: config, key: key) }
        }
    }

    func testConfigurationInvalidValues() throws {
        let cases: [(String, Any)] = [("hidden_size", 0), ("state_size", -4), ("time_step_rank", "fast"),
                                      ("layer_norm_epsilon", 0), ("num_hidden_layers", 0), ("vocab_size", -1),
                                      ("hidden_size", "64")]
        for (key, value) in cases {
            let directory = try copy().directory
            try Corruption.editJSON(directory) { $0[key] = value }
            let config = directory.appendingPathComponent("config.json").path
            assertLoadingFails(directory, mentions: [config, key]) { error in
                if case .invalidValue(config, key, _, _) = error { return true }
                return false
            }
        }
    }

    /// A size so large that the model's derived sizes (expand × hidden_size, …) would overflow Int.
    func testConfigurationSizeTooLarge() throws {
        let directory = try copy().directory
        try Corruption.editJSON(directory) { $0["hidden_size"] = 1 << 62; $0["intermediate_size"] = nil }
        let config = directory.appendingPathComponent("config.json").path
        assertLoadingFails(directory, mentions: [config, "hidden_size"]) { error in
            if case .invalidValue(config, "hidden_size", _, _) = error { return true }
            return false
        }
    }

    func testUnknownKeyIsRefusedUnlessLenient() throws {
        let directory = try copy().directory
        try Corruption.editJSON(directory) { $0["hiden_size"] = 64 }
        let config = directory.appendingPathComponent("config.json").path
        assertLoadingFails(directory, mentions: [config, "hiden_size", "--lenient-config"]) {
            $0 == .unknownKeys(path: config, keys: ["hiden_size"])
        }
        let model = try MambaModel(directory: ModelDirectory(directory, lenientConfiguration: true))
        XCTAssertEqual(model.configuration.hiddenSize, 64)
    }

    func testMalformedJSON() throws {
        for text in ["{\"hidden_size\": 64,", "[1, 2, 3]", ""] {
            let directory = try copy().directory
            try Corruption.write(text, to: directory, "config.json")
            let config = directory.appendingPathComponent("config.json").path
            assertLoadingFails(directory, mentions: [config, "JSON"]) { error in
                if case .malformedJSON(config, _) = error { return true }
                return false
            }
        }
    }

    // MARK: - directories

    func testNonexistentPathAndPlainFile() throws {
        let missing = try scratchDirectory().appendingPathComponent("no-such-model")
        assertLoadingFails(missing, mentions: [missing.path]) { $0 == .fileNotFound(path: missing.path) }
        let weights = try copy().weights
        assertLoadingFails(weights, mentions: [weights.path]) { $0 == .notADirectory(path: weights.path) }
        let noConfig = try copy().directory
        try FileManager.default.removeItem(at: noConfig.appendingPathComponent("config.json"))
        let config = noConfig.appendingPathComponent("config.json").path
        assertLoadingFails(noConfig, mentions: [config]) { $0 == .fileNotFound(path: config) }
    }

    func testPyTorchCheckpointOnlySaysHowToConvert() throws {
        let (directory, weights) = try copy()
        try FileManager.default.removeItem(at: weights)
        try Corruption.write("not really a pickle", to: directory, "pytorch_model.bin")
        assertLoadingFails(directory, mentions: [directory.path, "pytorch_model.bin", "save_pretrained", "safe_serialization=True"]) {
            $0 == .pytorchCheckpointOnly(directory: directory.path)
        }
        try FileManager.default.removeItem(at: directory.appendingPathComponent("pytorch_model.bin"))
        assertLoadingFails(directory, mentions: [directory.path]) { $0 == .noWeights(directory: directory.path) }
    }

    func testShardedIndexNamingAMissingShard() throws {
        let directory = try copyOfFixture("tiny_b_sharded")
        let shard = directory.appendingPathComponent("model-00003-of-00004.safetensors")
        try FileManager.default.removeItem(at: shard)
        assertLoadingFails(directory, mentions: [shard.path]) { $0 == .fileNotFound(path: shard.path) }
    }

    func testShardedIndexNamingAMissingTensor() throws {
        let directory = try copyOfFixture("tiny_b_sharded")
        let ghost = "backbone.layers.7.mixer.D"
        try Corruption.editJSON(directory, "model.safetensors.index.json") { index in
            var map = index["weight_map"] as! [String: String]
            map[ghost] = "model-00001-of-00004.safetensors"
            index["weight_map"] = map
        }
        let index = directory.appendingPathComponent("model.safetensors.index.json").path
        assertLoadingFails(directory, mentions: [index, ghost, "model-00001-of-00004.safetensors"], corrupt)
    }

    func testShardedIndexThatIsNotAnIndex() throws {
        let directory = try copyOfFixture("tiny_b_sharded")
        try Corruption.write("{\"metadata\": {}}", to: directory, "model.safetensors.index.json")
        let index = directory.appendingPathComponent("model.safetensors.index.json").path
        assertLoadingFails(directory, mentions: [index, "weight_map"]) { error in
            if case .malformedJSON(index, _) = error { return true }
            return false
        }
    }

    // MARK: - the model

    func testTokenIdsOutOfRange() throws {
        let model = try Fixtures.model("tiny_a")
        for (ids, bad, position) in [([1, 2, 251], 251, 2), ([-1], -1, 0), ([5, 100_000, 3], 100_000, 1)] {
            let expected = ModelError.tokenOutOfRange(id: bad, position: position, vocabularySize: 251)
            var state = model.makeState()
            XCTAssertThrowsError(try model.prefill(ids, state: &state)) { XCTAssertEqual($0 as? ModelError, expected) }
            XCTAssertEqual(state, model.makeState(), "a refused prompt leaves the state untouched")
            XCTAssertThrowsError(try model.forward(ids)) { XCTAssertEqual($0 as? ModelError, expected) }
            print("expected error: \(expected.description)")
        }
    }

    func testEmptyPrompt() throws {
        let model = try Fixtures.model("tiny_a")
        var state = model.makeState()
        XCTAssertThrowsError(try model.prefill([], state: &state)) { XCTAssertEqual($0 as? ModelError, .emptyPrompt) }
    }

    // MARK: - saved states

    func testStateSaveLoadRoundTrip() throws {
        let model = try Fixtures.model("tiny_a")
        var state = model.makeState()
        _ = try model.prefill([3, 1, 4, 1, 5, 9, 2, 6], state: &state)
        let url = try scratchDirectory().appendingPathComponent("state.safetensors")
        try state.save(to: url)
        let loaded = try ModelState.load(from: url, like: model.makeState())
        XCTAssertEqual(loaded, state)
        XCTAssertEqual(loaded.position, 8)
        // The restored state continues the sequence exactly as the original.
        var a = state, b = loaded
        XCTAssertEqual(model.step(7, state: &a), model.step(7, state: &b))
    }

    func testStateOfAnotherShapeIsRefused() throws {
        let small = try Fixtures.model("tiny_a"), other = try Fixtures.model("tiny_b")
        let url = try scratchDirectory().appendingPathComponent("state.safetensors")
        try small.makeState().save(to: url)
        // tiny_b: E = 96, k = 3 (tiny_a: E = 128, k = 4).
        XCTAssertThrowsError(try ModelState.load(from: url, like: other.makeState())) { error in
            print("expected error: \(error)")
            XCTAssertEqual(error as? LoadingError,
                           .wrongShape(key: "conv.0", path: url.path, expected: [96, 3], found: [128, 4]))
        }
    }
}
