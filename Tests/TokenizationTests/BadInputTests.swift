import XCTest
@testable import Tokenization

/// A damaged or unsupported tokenizer.json gets an error naming the file and what is wrong.
final class BadInputTests: XCTestCase {
    private let path = "/models/x/tokenizer.json"

    /// The neox fixture as a JSON object, to damage one key at a time.
    private func fixtureObject() throws -> [String: Any] {
        let data = try Data(contentsOf: Fixtures.tokenizerURL("neox"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func load(_ object: [String: Any]) throws -> Tokenizer {
        try Tokenizer(data: JSONSerialization.data(withJSONObject: object), path: path)
    }

    private func expectError(_ expected: (TokenizerError) -> Bool, mentioning words: [String],
                             file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Tokenizer) {
        do {
            _ = try body()
            XCTFail("no error", file: file, line: line)
        } catch let error as TokenizerError {
            XCTAssertTrue(expected(error), "unexpected error: \(error)", file: file, line: line)
            for word in words { XCTAssertTrue(error.description.contains(word), "\"\(error)\" lacks \(word)", file: file, line: line) }
            print("  ok: \(error)")
        } catch {
            XCTFail("not a TokenizerError: \(error)", file: file, line: line)
        }
    }

    func testMalformedJSON() {
        expectError({ if case .malformedJSON = $0 { true } else { false } }, mentioning: [path]) {
            try Tokenizer(data: Data("{\"model\": {\"type\": \"BPE\", ".utf8), path: path)
        }
    }

    func testMissingModel() throws {
        var object = try fixtureObject()
        object["model"] = nil
        expectError({ $0 == .missingKey(path: path, key: "model") }, mentioning: [path, "model"]) { try load(object) }
    }

    func testMissingVocabulary() throws {
        var object = try fixtureObject()
        var model = try XCTUnwrap(object["model"] as? [String: Any])
        model["vocab"] = nil
        object["model"] = model
        expectError({ $0 == .missingKey(path: path, key: "model.vocab") }, mentioning: ["model.vocab"]) { try load(object) }
    }

    func testUnknownModelType() throws {
        var object = try fixtureObject()
        object["model"] = ["type": "Unigram", "vocab": [["a", 0.0]], "unk_id": 0]
        expectError({ if case .unsupportedComponent(_, "model", _) = $0 { true } else { false } }, mentioning: ["Unigram"]) {
            try load(object)
        }
    }

    func testMergeNamingTokenNotInVocabulary() throws {
        var object = try fixtureObject()
        var model = try XCTUnwrap(object["model"] as? [String: Any])
        var merges = try XCTUnwrap(model["merges"] as? [Any])
        merges.insert("Ġ zzzNotAToken", at: 5)
        model["merges"] = merges
        object["model"] = model
        expectError({ if case .inconsistentVocabulary = $0 { true } else { false } }, mentioning: [path, "zzzNotAToken", "#5"]) {
            try load(object)
        }
    }

    func testUnsupportedComponentsAreNamed() throws {
        let cases: [(key: String, value: Any, word: String)] = [
            ("normalizer", ["type": "BertNormalizer"], "BertNormalizer"),
            ("pre_tokenizer", ["type": "BertPreTokenizer"], "BertPreTokenizer"),
            ("post_processor", ["type": "SomethingNew"], "SomethingNew"),
            ("decoder", ["type": "WordPiece"], "WordPiece"),
            ("normalizer", ["type": "Replace", "pattern": ["Regex": "\\s+"], "content": " "], "Regex"),
        ]
        for (key, value, word) in cases {
            var object = try fixtureObject()
            object[key] = value
            expectError({ if case .unsupportedComponent = $0 { true } else { false } }, mentioning: [path, key, word]) {
                try load(object)
            }
        }
    }

    func testDropoutIsRefused() throws {
        var object = try fixtureObject()
        var model = try XCTUnwrap(object["model"] as? [String: Any])
        model["dropout"] = 0.1
        object["model"] = model
        expectError({ if case .unsupportedComponent = $0 { true } else { false } }, mentioning: ["dropout"]) { try load(object) }
    }

    func testWrongTypeNamesTheKey() throws {
        var object = try fixtureObject()
        object["added_tokens"] = "not a list"
        expectError({ if case .malformedJSON = $0 { true } else { false } }, mentioning: ["added_tokens"]) { try load(object) }
    }

    func testMissingFileAndDirectory() {
        expectError({ if case .unreadableFile = $0 { true } else { false } }, mentioning: ["/nonexistent/tokenizer.json"]) {
            try Tokenizer(url: URL(fileURLWithPath: "/nonexistent/tokenizer.json"))
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-model-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        expectError({ if case .unreadableFile = $0 { true } else { false } }, mentioning: ["tokenizer.json"]) {
            try Tokenizer.load(directory: empty)
        }
    }

    func testLoadFromModelDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(at: Fixtures.tokenizerURL("neox"), to: directory.appendingPathComponent("tokenizer.json"))
        let tokenizer = try Tokenizer.load(directory: directory)
        XCTAssertEqual(tokenizer.eosTokenID, 0)
        XCTAssertEqual(tokenizer.id(of: "<|endoftext|>"), 0)
        XCTAssertEqual(tokenizer.vocabularySize, 3006)
    }
}

/// Text to tokenize must be UTF-8; anything else is refused with the file and byte offset named.
final class TextFileTests: XCTestCase {
    func testInvalidUTF8IsRefused() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).txt")
        try Data([0x68, 0x69, 0x20, 0xC3, 0x28, 0x21]).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try TextFile.read(url)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains(url.path) && message.contains("UTF-8") && message.contains("offset 3"), message)
            print("  ok: \(message)")
        }
    }

    func testValidUTF8IsRead() throws {
        XCTAssertEqual(try TextFile.decode(Data("héllo 🤖".utf8), source: "x"), "héllo 🤖")
    }
}
