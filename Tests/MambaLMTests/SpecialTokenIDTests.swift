import XCTest
import Foundation
@testable import MambaLM

/// bos/eos/pad ids of config.json outside the vocabulary (`SpecialTokenIDs`): ignored with a warning naming
/// the file and the key where transformers ignores them, refused by name where PyTorch refuses them (Llama's
/// padding row of the embedding).
final class SpecialTokenIDTests: XCTestCase {
    func config(_ path: String, _ change: (inout [String: Any]) -> Void) throws -> [String: Any] {
        let url = Fixtures.root.appendingPathComponent("\(path)/config.json")
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        change(&object)
        return object
    }

    func parse(_ object: [String: Any]) throws -> ModelConfiguration {
        try ModelConfiguration.parse(object, path: "dir/config.json", lenient: false)
    }

    func testIdsOutsideTheVocabularyAreIgnoredWithAWarning() throws {
        // tiny_a: vocab_size 251.
        let mamba = try parse(config("mamba1/tiny_a") { $0["eos_token_id"] = 251; $0["bos_token_id"] = -1; $0["pad_token_id"] = 1 << 40 })
        XCTAssertEqual(mamba.mamba?.eosTokenID, nil)
        XCTAssertEqual(mamba.mamba?.bosTokenID, nil)
        XCTAssertEqual(mamba.mamba?.padTokenID, nil)
        XCTAssertEqual(mamba.warnings.count, 3)
        for (key, value) in [("eos_token_id", "251"), ("bos_token_id", "-1"), ("pad_token_id", "\(1 << 40)")] {
            XCTAssertTrue(mamba.warnings.contains { $0.hasPrefix("dir/config.json: \"\(key)\" is \(value), outside the vocabulary 0 ..< 251") },
                          "\(mamba.warnings) should name \(key)")
        }
        let mamba2 = try parse(config("mamba2/tiny_a") { $0["eos_token_id"] = [100_000, 1] })
        XCTAssertNil(mamba2.mamba2?.eosTokenID)
        XCTAssertEqual(mamba2.warnings.count, 1)
        let llama = try parse(config("llama/llama_a") { $0["eos_token_id"] = 251 })
        XCTAssertNil(llama.llama?.eosTokenID)
        XCTAssertTrue(llama.warnings.first?.contains("\"eos_token_id\" is 251") == true, "\(llama.warnings)")
    }

    func testIdsInsideTheVocabularyAreKeptWithoutWarningsAndAPaddingIndexFromTheEndWarns() throws {
        let tiny = try parse(config("llama/llama_a") { $0["pad_token_id"] = 0 })
        XCTAssertEqual([tiny.llama?.bosTokenID, tiny.llama?.eosTokenID, tiny.llama?.padTokenID], [1, 2, 0])
        XCTAssertEqual(tiny.warnings, [])
        let mamba = try parse(config("mamba1/tiny_a") { $0["eos_token_id"] = 250 })
        XCTAssertEqual(mamba.mamba?.eosTokenID, 250)
        XCTAssertEqual(mamba.warnings, [])
        // A negative padding index counts from the end of the embedding in PyTorch (old LLaMA configs say -1):
        // transformers builds the model and warns; so does this engine, which never reads the padding id.
        let llama = try parse(config("llama/llama_a") { $0["pad_token_id"] = -1 })
        XCTAssertNil(llama.llama?.padTokenID)
        XCTAssertEqual(llama.warnings.count, 1)
    }

    /// transformers builds LlamaModel's embedding with padding_idx = pad_token_id, which PyTorch refuses
    /// outside −vocab_size ..< vocab_size ("Padding_idx must be within num_embeddings").
    func testLlamaPaddingRowOutsideTheEmbeddingIsRefusedByName() throws {
        for pad in [251, -252] {
            XCTAssertThrowsError(try parse(config("llama/llama_a") { $0["pad_token_id"] = pad })) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("dir/config.json") && text.contains("\"pad_token_id\" is \(pad)") && text.contains("vocab_size 251"), text)
            }
        }
    }
}
