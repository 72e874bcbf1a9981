import XCTest
import Foundation

/// The `remamba` executable on bad input, end to end: it exits (no signal) with a non-zero status, stderr
/// names the file, key or argument at fault, and no output file is left behind (docs/FUZZING.md).
final class CommandLineBadInputTests: XCTestCase {
    static let repository = Fixtures.tests.deletingLastPathComponent()
    static let tinyWeights = repository.appendingPathComponent("fuzz/resources/tiny-model.safetensors")
    static let tinyConfiguration = repository.appendingPathComponent("fuzz/resources/tiny-config.json")
    var scratch: URL!

    override func setUpWithError() throws { scratch = try Fixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    /// A model directory in the scratch folder: the tiny Mamba of fuzz/resources with these files replaced.
    func model(_ name: String, config: Data? = nil, weights: Data? = nil, tokenizer: URL? = nil) throws -> String {
        let directory = scratch.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try (config ?? Data(contentsOf: Self.tinyConfiguration)).write(to: directory.appendingPathComponent("config.json"))
        try (weights ?? Data(contentsOf: Self.tinyWeights)).write(to: directory.appendingPathComponent("model.safetensors"))
        if let tokenizer { try FileManager.default.copyItem(at: tokenizer, to: directory.appendingPathComponent("tokenizer.json")) }
        return directory.path
    }

    func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    /// Runs the command; it must fail cleanly, mention every word, and leave none of `outputs`.
    func assertFails(_ arguments: [String], mentions words: [String], leaves outputs: [String],
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try RemambaExecutable.run(arguments, file: file, line: line)
        print("remamba \(arguments.first ?? ""): status \(result.status), stderr: \(result.error.trimmingCharacters(in: .whitespacesAndNewlines))")
        XCTAssertTrue(result.exited, "ended by a signal (status \(result.status)): \(result.error)", file: file, line: line)
        XCTAssertNotEqual(result.status, 0, file: file, line: line)
        for word in words {
            XCTAssertTrue(result.error.contains(word), "stderr \"\(result.error)\" should mention \(word)", file: file, line: line)
        }
        for output in outputs {
            XCTAssertFalse(FileManager.default.fileExists(atPath: output), "\(output) was left behind", file: file, line: line)
        }
        let strays = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(strays, [], "temporary files left in the output directory", file: file, line: line)
    }

    func testBadConfigurationNamesFileAndKey() throws {
        let crash = Self.repository.appendingPathComponent("fuzz/crashes/config/pad-multiple-zero.json")
        let dir = try model("pad-zero", config: Data(contentsOf: crash))
        try assertFails(["logits", "--model", dir, "--ids", "1,2", "--out", path("logits.safetensors")],
                        mentions: ["\(dir)/config.json", "\"pad_vocab_size_multiple\" is 0"], leaves: [path("logits.safetensors")])
        try assertFails(["quantize", "--model", dir, "--format", "q8", "--out", path("quantized")],
                        mentions: ["\(dir)/config.json", "pad_vocab_size_multiple"], leaves: [path("quantized")])
    }

    func testCorruptWeightsNameTheFile() throws {
        let truncated = try Data(contentsOf: Self.tinyWeights).prefix(100)
        let dir = try model("truncated", weights: truncated)
        try assertFails(["logits", "--model", dir, "--ids", "1,2", "--out", path("logits.safetensors")],
                        mentions: ["\(dir)/model.safetensors", "not a valid safetensors file"], leaves: [path("logits.safetensors")])
    }

    func testTokenOutsideTheVocabularyIsRefused() throws {
        let dir = try model("tiny")
        try assertFails(["logits", "--model", dir, "--ids", "1,99", "--out", path("logits.safetensors")],
                        mentions: ["99"], leaves: [path("logits.safetensors")])
    }

    /// Every output path is checked before any work: an unwritable --trace leaves no --out (issue 16).
    func testUnwritableSecondOutputLeavesNoFirstOutput() throws {
        let dir = try model("tiny")
        let trace = path("missing-directory/trace.json")
        try assertFails(["logits", "--model", dir, "--remamba", "--ids", "1,2", "--out", path("logits.safetensors"), "--trace", trace],
                        mentions: ["missing-directory"], leaves: [path("logits.safetensors"), trace])
        try assertFails(["bench", "--compare", "small", "--inputs", "8", "--output-tokens", "1", "--out", path("missing-directory/speed")],
                        mentions: ["missing-directory"], leaves: [path("missing-directory")])
    }

    func testHostileTokenizerNamesTheFileAndTheId() throws {
        let crash = Self.repository.appendingPathComponent("fuzz/crashes/tokenizer-json/added-id-2^62.json")
        let dir = try model("tokenizer", tokenizer: crash)
        try assertFails(["generate", "--model", dir, "--prompt", "ab", "--max-tokens", "2"],
                        mentions: ["\(dir)/tokenizer.json", "has id 4611686018427387904"], leaves: [])
    }

    func testConfigurationLargerThanMemoryCreatesNothing() throws {
        let config = path("huge-config.json")
        try Data(#"{"model_type": "mamba", "vocab_size": 16777216, "hidden_size": 16777216, "num_hidden_layers": 1}"#.utf8)
            .write(to: URL(fileURLWithPath: config))
        try assertFails(["init", "--config", config, "--out", path("new-model")],
                        mentions: [config, "of memory"], leaves: [path("new-model")])
    }

    /// A special token id outside the vocabulary is ignored with a warning naming the file and the key, and
    /// the command goes on.
    func testOutOfVocabularyEndTokenIsAWarning() throws {
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Self.tinyConfiguration)) as? [String: Any])
        object["eos_token_id"] = 8
        let dir = try model("eos", config: JSONSerialization.data(withJSONObject: object))
        let out = path("logits.safetensors")
        let result = try RemambaExecutable.run(["logits", "--model", dir, "--ids", "1,2", "--out", out])
        XCTAssertEqual(result.status, 0, result.error)
        XCTAssertTrue(result.error.contains("warning: \(dir)/config.json: \"eos_token_id\" is 8, outside the vocabulary 0 ..< 8"), result.error)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out))
    }
}
