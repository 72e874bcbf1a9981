import XCTest
@testable import Tokenization

/// tokenizer.json files that used to crash the process (issue 16), kept as inputs under
/// fuzz/crashes/tokenizer-json/ (replayed by FuzzTargetsTests): handled exactly as `tokenizers` 0.23.3 does,
/// or refused with an error naming the token and its id.
final class HostileTokenizerTests: XCTestCase {
    static let crashes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz/crashes/tokenizer-json")

    func load(_ name: String) throws -> Tokenizer {
        let url = Self.crashes.appendingPathComponent(name)
        return try Tokenizer(data: Data(contentsOf: url), path: url.path)
    }

    func assertRefused(_ name: String, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try load(name), file: file, line: line) { error in
            print("expected error: \(error)")
            for text in mentions + [name] {
                XCTAssertTrue("\(error)".contains(text), "\"\(error)\" does not mention \(text)", file: file, line: line)
            }
        }
    }

    /// A Strip normalizer turns the added token "  " (normalized: true) into nothing (an index out of range
    /// here before). `tokenizers` then never matches it; its ids, from the Python library:
    /// encode("ab cd") = [0, 1, 26, 2, 3], encode("  ab  ") = [0, 1], decode([27]) = "".
    func testAddedTokenThatNormalizesToNothingIsNeverMatched() throws {
        let tokenizer = try load("strip-whitespace-added-token.json")
        XCTAssertEqual(tokenizer.encode("ab cd"), [0, 1, 26, 2, 3])
        XCTAssertEqual(tokenizer.encode("  ab  "), [0, 1])
        XCTAssertEqual(tokenizer.decode([27]), "")
    }

    /// Ids size dense tables here: 2^31 − 1 allocated 34 GB, 2^62 crashed, a vocabulary id ≥ 2^31 in a merge
    /// trapped in Int32(_:). (`tokenizers` refuses ids beyond u32 and keeps sparse maps.)
    func testIdsBeyondTheDocumentedBoundAreRefusedBeforeAnyTableIsSized() {
        let bound = "outside 0 … \(Tokenizer.maxTokenID)"
        assertRefused("added-id-2^31-1.json", mentions: ["added token \"  \" has id 2147483647", bound])
        assertRefused("added-id-2^62.json", mentions: ["added token \"  \" has id 4611686018427387904", bound])
        assertRefused("merge-id-2^31.json", mentions: ["token \"ab\" has id 2147483648", bound])
    }
}

extension HostileTokenizerTests {
    /// A TemplateProcessing special token's id is bounded like the vocabulary's: it would be the end-of-sequence
    /// id and an input of the model (`tokenizers` refuses ids beyond u32).
    func testPostProcessorIdsAreBoundedToo() {
        assertRefused("post-processor-id-2^62.json", mentions: ["post_processor has special token id 4611686018427387904",
                                                                 "outside 0 … \(Tokenizer.maxTokenID)"])
    }
}
