import XCTest
@testable import Tokenization

/// Each fast path against its slow twin.
final class FastPathTests: XCTestCase {
    /// The linear merge loop (short words) and the heap merge loop (long words) pick the same merges.
    func testLinearAndHeapMergeLoopsAgree() throws {
        let tokenizer = try Fixtures.tokenizer("neox")
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz etaoinshrdlu".utf8)
        for length in [2, 3, 5, 10, 47, 48, 49, 100, 400] {
            for _ in 0..<50 {
                let word = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
                var initial = word.map { Int32(tokenizer.id(of: String(ByteLevelAlphabet.scalarForByte[Int($0)]))!) }
                var heap = initial
                MergeLoop.linear(&initial, tokenizer.model.merges)
                MergeLoop.withHeap(&heap, tokenizer.model.merges)
                XCTAssertEqual(initial, heap, "word \(String(decoding: word, as: UTF8.self))")
            }
        }
    }

    /// The GPT-2 scanner gives the same pieces as the same pattern run by Swift Regex.
    func testGPT2ScannerMatchesRegex() throws {
        // Built directly: `Splitter(.regex(GPT2Splitter.pattern))` would pick the scanner.
        let reference = Splitter.regex(try Regex(GPT2Splitter.pattern).matchingSemantics(.unicodeScalar), source: "")
        var compared = 0
        for sample in try Fixtures.cases("neox") {
            var text = sample.text
            text.withUTF8 { bytes in
                let fast = Splitter.gpt2.matches(in: bytes).map(\.range)
                let slow = reference.matches(in: bytes).map(\.range)
                XCTAssertEqual(fast, slow, sample.text.debugDescription)
            }
            compared += 1
        }
        print("GPT-2 scanner = regex on \(compared) strings")
    }

    /// The word cache returns what the model computes.
    func testCachedAndUncachedEncodingsAgree() throws {
        let tokenizer = try Fixtures.tokenizer("neox")
        let text = String(repeating: "the cached word, and the cached word again; ", count: 50)
        XCTAssertEqual(tokenizer.encode(text), tokenizer.encode(text))
        let fresh = try Fixtures.tokenizer("neox")
        XCTAssertEqual(tokenizer.encode(text), fresh.encode(text))
    }

    /// A four-byte emoji split over several byte-level tokens is emitted only once complete.
    func testStreamingHoldsBackIncompleteCharacters() throws {
        let tokenizer = try Fixtures.tokenizer("neox")
        let ids = tokenizer.encode("ok 🤖 日本 done", addSpecialTokens: false)
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        var pieces: [String] = []
        for id in ids { pieces.append(stream.append(id)) }
        pieces.append(stream.finish())
        XCTAssertFalse(pieces.contains { $0.contains("\u{FFFD}") }, "\(pieces)")
        XCTAssertEqual(pieces.joined(), "ok 🤖 日本 done")
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0x61, 0xF0, 0x9F]), 1)
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0x61, 0xE0, 0x80]), 3, "invalid, not held back")
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0xF0, 0x9F, 0xA4, 0x96]), 4)
    }

    func testSkipSpecialTokens() throws {
        let tokenizer = try Fixtures.tokenizer("neox")
        let ids = tokenizer.encode("a<|endoftext|>b")
        XCTAssertEqual(tokenizer.decode(ids), "a<|endoftext|>b")
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "ab")
    }
}
