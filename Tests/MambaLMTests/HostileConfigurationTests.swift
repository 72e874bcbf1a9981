import Foundation
import XCTest
@testable import MambaLM
import TensorCore

/// config.json files that used to crash the process (issue 16): each is now refused with an error naming
/// the key, before any arithmetic on the value or any allocation of the config's size. The same inputs are
/// kept under fuzz/crashes/config/ and replayed through the fuzz target by FuzzTargetsTests.
final class HostileConfigurationTests: XCTestCase {
    /// Loads `json` as config.json and expects a `LoadingError` mentioning every string of `mentions`.
    func assertRefused(_ json: String, mentions: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try scratchDirectory().appendingPathComponent("config.json")
        try Data(json.utf8).write(to: url)
        do throws(LoadingError) {
            let c = try ModelConfiguration.load(url)
            XCTFail("\(json) was accepted: \(c)", file: file, line: line)
        } catch {
            print("expected error: \(error.description)")
            for text in mentions + [url.path] {
                XCTAssertTrue(error.description.contains(text), "\"\(error.description)\" does not mention \(text)", file: file, line: line)
            }
        }
    }

    func testPadVocabularyMultipleZeroIsRefusedNotADivisionByZero() throws {
        try assertRefused(#"{"d_model":64,"n_layer":1,"vocab_size":8,"pad_vocab_size_multiple":0}"#,
                          mentions: ["pad_vocab_size_multiple", "is 0"])
        try assertRefused(#"{"d_model":64,"n_layer":1,"vocab_size":8,"pad_vocab_size_multiple":0,"ssm_cfg":{"layer":"Mamba2"}}"#,
                          mentions: ["pad_vocab_size_multiple", "is 0"])
    }

    func testSizesNearIntMaxAreRefusedNotOverflowTraps() throws {
        let max = Int.max
        let cases: [(String, String)] = [
            (#"{"d_model":64,"n_layer":1,"vocab_size":\#(max)}"#, "vocab_size"),
            (#"{"d_model":64,"n_layer":1,"vocab_size":8,"pad_vocab_size_multiple":\#(max)}"#, "pad_vocab_size_multiple"),
            (#"{"d_model":\#(max),"n_layer":1,"vocab_size":8}"#, "hidden_size"),
            (#"{"d_model":64,"n_layer":1,"vocab_size":8,"ssm_cfg":{"expand":\#(max)}}"#, "expand"),
            (#"{"d_model":\#(max),"n_layer":1,"vocab_size":8,"ssm_cfg":{"layer":"Mamba2"}}"#, "d_model"),
            (#"{"d_model":64,"n_layer":1,"vocab_size":8,"ssm_cfg":{"layer":"Mamba2","expand":\#(max)}}"#, "ssm_cfg.expand"),
            // Hugging Face layouts: "auto" time_step_rank = ⌈D/16⌉ and Mamba2's default num_heads = expand·D/P.
            (#"{"model_type":"mamba","hidden_size":\#(max),"num_hidden_layers":1,"vocab_size":8}"#, "hidden_size"),
            (#"{"model_type":"mamba2","hidden_size":\#(max),"expand":\#(max),"num_hidden_layers":1,"vocab_size":8}"#, "hidden_size"),
            (#"{"d_model":64,"n_layer":1,"vocab_size":8.5}"#, "vocab_size"),
        ]
        for (json, key) in cases { try assertRefused(json, mentions: ["\"\(key)\""]) }
    }

    func testMamba2ChunkSizeHasADocumentedBound() throws {
        try assertRefused(#"{"model_type":"mamba2","hidden_size":64,"num_hidden_layers":1,"vocab_size":8,"head_dim":16,"n_groups":1,"chunk_size":2147483648}"#,
                          mentions: ["chunk_size", "2147483648", "at most \(ConfigurationLimits.maxChunkSize)"])
    }

    /// 16 M layers used to make `logits` list 16 M layers' tensor names before comparing them with the file.
    func testLayerCountIsComparedWithTheHeaderFirst() throws {
        let directory = try copyOfFixture("tiny_a")
        try Corruption.editJSON(directory) { $0["num_hidden_layers"] = 16_777_216 }
        let start = Date()
        assertLoadingFails(directory, mentions: ["16777216 layers", "the weights have 2"]) {
            if case .layerCountMismatch = $0 { return true }; return false
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "refused before anything of the config's size is built")
    }

    func testWeightsLargerThanMemoryAreRefusedWithTheNumbers() throws {
        let directory = try copyOfFixture("tiny_a")
        try Corruption.editJSON(directory) { $0["hidden_size"] = 1 << 24; $0["vocab_size"] = 1 << 24; $0["intermediate_size"] = nil }
        assertLoadingFails(directory, mentions: ["config.json", "GiB (weight matrices as F32", "of memory"]) {
            if case .exceedsMemory = $0 { return true }; return false
        }
        // The estimate is the exact parameter count: tiny_a's (checked against its file) × 4 bytes.
        let fixture = try ModelDirectory(Fixtures.mamba1("tiny_a"))
        let stored = fixture.tensorFiles.reduce(0) { $0 + $1.value.entries[$1.key]!.shape.reduce(1, *) }
        let footprint = ModelFootprint(fixture.configuration.architecture)
        XCTAssertEqual(footprint.parameterCount, stored)
        XCTAssertNoThrow(try footprint.verifyFits(path: "config.json", matrices: .f32, physicalMemory: 4 * stored))
        XCTAssertThrowsError(try footprint.verifyFits(path: "config.json", matrices: .f32, physicalMemory: 4 * stored - 1))
    }

    func testFootprintReportsOverflowAsNilNotATrap() {
        let huge = MambaConfiguration(vocabularySize: 1 << 24, hiddenSize: 1 << 24, stateSize: 1 << 24, numberOfLayers: 1 << 24,
                                      expand: 1 << 24, convolutionKernel: 1 << 24)
        let footprint = ModelFootprint(.mamba(huge))
        XCTAssertNil(footprint.parameterCount)
        XCTAssertNil(footprint.stateBytes)
        XCTAssertThrowsError(try footprint.verifyFits(path: "config.json", matrices: .q8_0))
        XCTAssertNil(CheckedSize.product(Int.max, 2))
        XCTAssertNil(CheckedSize.sum(Int.max, 1))
        XCTAssertEqual(CheckedSize.product(3, 5, 7), 105)
    }
}
