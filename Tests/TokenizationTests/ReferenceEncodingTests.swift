import XCTest
@testable import Tokenization

/// Every fixture string must give exactly the ids (and decoded text) that Python's `tokenizers` gave.
final class ReferenceEncodingTests: XCTestCase {
    func testEncodeMatchesReference() throws {
        try compareAll { tokenizer, sample in
            let ids = tokenizer.encode(sample.text)
            return ids == sample.ids ? nil : "ids \(ids)\n   expected \(sample.ids)"
        }
    }

    func testEncodeWithoutSpecialTokensMatchesReference() throws {
        try compareAll { tokenizer, sample in
            let ids = tokenizer.encode(sample.text, addSpecialTokens: false)
            return ids == sample.expectedPlainIDs ? nil : "ids \(ids)\n   expected \(sample.expectedPlainIDs)"
        }
    }

    func testDecodeMatchesReference() throws {
        try compareAll { tokenizer, sample in
            let text = tokenizer.decode(sample.ids)
            let skipped = tokenizer.decode(sample.ids, skipSpecialTokens: true)
            if text != sample.expectedDecoded { return "decoded \(text.debugDescription)\n   expected \(sample.expectedDecoded.debugDescription)" }
            if skipped != sample.expectedDecodedSkippingSpecials {
                return "decoded (skip) \(skipped.debugDescription)\n   expected \(sample.expectedDecodedSkippingSpecials.debugDescription)"
            }
            return nil
        }
    }

    /// decode(encode(x)) gives back x after normalization, for the tokenizer without a prefix space,
    /// except where an added token with lstrip/rstrip swallowed whitespace (Python loses it too).
    func testRoundTripGivesBackNormalizedText() throws {
        let tokenizer = try Fixtures.tokenizer("neox")
        var checked = 0
        for sample in try Fixtures.cases("neox") where sample.decoded == nil {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(sample.text)), sample.expectedNormalized)
            XCTAssertEqual(Normalizer.nfc(sample.text), sample.expectedNormalized, "NFC differs from Python")
            checked += 1
        }
        print("round trip: \(checked) strings")
        XCTAssertGreaterThan(checked, 900)
    }

    /// Streaming the reference ids one by one gives exactly `decode` of all of them.
    func testStreamingDetokenizerMatchesDecode() throws {
        try compareAll { tokenizer, sample in
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            var text = sample.ids.map { stream.append($0) }.joined()
            text += stream.finish()
            return text == tokenizer.decode(sample.ids) ? nil : "streamed \(text.debugDescription)"
        }
    }

    private func compareAll(_ check: (Tokenizer, Fixtures.Case) -> String?) throws {
        var total = 0
        for name in Fixtures.names {
            let tokenizer = try Fixtures.tokenizer(name)
            let cases = try Fixtures.cases(name)
            var failures = 0
            for sample in cases {
                guard let problem = check(tokenizer, sample) else { continue }
                failures += 1
                if failures <= 5 { XCTFail("\(name): \(sample.text.debugDescription)\n   \(problem)") }
            }
            print("\(name): \(cases.count - failures)/\(cases.count) strings identical")
            XCTAssertEqual(failures, 0, "\(name): \(failures) of \(cases.count) strings differ")
            total += cases.count
        }
        print("compared \(total) strings")
    }
}
