import XCTest
@testable import MambaTraining
import Tokenization

/// Training data: the official prompt cut, loss masks, formats by keys, bad lines, text windows.
final class TrainingDataTests: XCTestCase {
    static let tokenizerURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/demo-random/tokenizer.json")

    func testLongPromptKeepsItsFirst1000TokensAndItsTail() {
        let prompt = Array(0..<1500), response = [7, 8, 9]
        let e = InstructionExamples.example(prompt: prompt, response: response, endOfSequence: 99, maxLength: 1200)
        // excess = 1500 + 3 + 1 − 1200 = 304: prompt[1000 ..< 1304] is dropped.
        XCTAssertEqual(e.ids, Array(0..<1000) + Array(1304..<1500) + [7, 8, 9, 99])
        XCTAssertEqual(e.promptLength, 1196)
        XCTAssertEqual(e.ids.count, 1200)
        XCTAssertTrue(e.targets[..<1195].allSatisfy { $0 == nil }, "no loss inside the prompt")
        XCTAssertEqual(Array(e.targets[1195...]), [7, 8, 9, 99, nil], "the response and EOS are the targets")
    }

    func testShortExampleIsNotCutAndAResponseTooLongIsCutAtItsEnd() {
        let short = InstructionExamples.example(prompt: [1, 2], response: [3], endOfSequence: 0, maxLength: 10)
        XCTAssertEqual(short.ids, [1, 2, 3, 0])
        XCTAssertEqual(short.targets, [nil, 3, 0, nil])
        let long = InstructionExamples.example(prompt: [1, 2], response: Array(10..<30), endOfSequence: 0, maxLength: 8)
        XCTAssertEqual(long.ids, [1, 2, 10, 11, 12, 13, 14, 15])
        // A prompt too short for the official cut but longer than maxLength: head and tail of the prompt,
        // the response's start, and always a target.
        let both = InstructionExamples.example(prompt: Array(100..<1000), response: [1, 2, 3, 4], endOfSequence: 0, maxLength: 512)
        XCTAssertEqual(both.ids, Array(100..<353) + Array(746..<1000) + [1, 2, 3, 4, 0])
        XCTAssertEqual(both.ids.count, 512)
        XCTAssertEqual(both.targetCount, 5)
        let huge = InstructionExamples.example(prompt: Array(0..<50), response: Array(100..<200), endOfSequence: 0, maxLength: 10)
        XCTAssertEqual(huge.ids, [0, 1, 47, 48, 49, 100, 101, 102, 103, 104])
        XCTAssertEqual(huge.targetCount, 5)
    }

    func testFormatsAreDetectedFromTheKeys() throws {
        let tokenizer = try Tokenizer(url: Self.tokenizerURL)
        let lines = [#"{"system_prompt": "", "question": "What is two?", "response": "Two."}"#,
                     #"{"instruction": "Summarize", "input": "a text", "output": "short"}"#,
                     "",
                     #"{"prompt": "Hello", "completion": " world"}"#]
        let url = try write(lines.joined(separator: "\n"), name: "mixed.jsonl")
        let examples = try TrainingDataset.load(url, tokenizer: tokenizer, maxLength: 512)
        XCTAssertEqual(examples.count, 3)
        let eos = tokenizer.eosTokenID!
        let expected = [("What is two?", "Two."), ("Summarize\na text", "short"), ("Hello", " world")]
        for (example, (prompt, response)) in zip(examples, expected) {
            XCTAssertEqual(example.ids, tokenizer.encode(prompt) + tokenizer.encode(response, addSpecialTokens: false) + [eos])
        }
        XCTAssertEqual(InstructionFormat.detect(keys: ["text"]), nil)
    }

    func testMalformedLinesNameTheFileAndLine() throws {
        let tokenizer = try Tokenizer(url: Self.tokenizerURL)
        let bad = try write(#"{"prompt": "a", "completion": "b"}"# + "\n{not json\n", name: "bad.jsonl")
        XCTAssertThrowsError(try TrainingDataset.load(bad, tokenizer: tokenizer, maxLength: 64)) { error in
            XCTAssertEqual(error as? TrainingDataError, .malformedLine(path: bad.path, line: 2, reason: "not a JSON object"))
            XCTAssertTrue("\(error)".hasPrefix("\(bad.path):2:"), "\(error)")
        }
        let unknown = try write(#"{"text": "a"}"#, name: "unknown.jsonl")
        XCTAssertThrowsError(try TrainingDataset.load(unknown, tokenizer: tokenizer, maxLength: 64)) { error in
            XCTAssertEqual(error as? TrainingDataError, .unknownFormat(path: unknown.path, line: 1, keys: ["text"]))
        }
        let missing = try write(#"{"question": "a", "response": 3}"#, name: "missing.jsonl")
        XCTAssertThrowsError(try TrainingDataset.load(missing, format: .instruction(.openOrca), tokenizer: tokenizer, maxLength: 64)) { error in
            XCTAssertTrue("\(error)".contains("missing.jsonl:1: \"response\""), "\(error)")
        }
    }

    func testPlainTextBecomesContiguousWindowsWithLossOnEveryToken() throws {
        let windows = TextWindows.examples(tokens: Array(0..<10), maxLength: 4)
        XCTAssertEqual(windows.map(\.ids), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        XCTAssertEqual(windows[0].targets, [1, 2, 3, nil])
        XCTAssertEqual(TextWindows.examples(tokens: Array(0..<9), maxLength: 4).count, 2, "a 1-token tail has no target")
        let tokenizer = try Tokenizer(url: Self.tokenizerURL)
        let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 20)
        let examples = try TrainingDataset.load(try write(text, name: "corpus.txt"), tokenizer: tokenizer, maxLength: 32)
        XCTAssertEqual(examples.flatMap(\.ids), tokenizer.encode(text, addSpecialTokens: false))
    }

    func testFingerprintTellsDataApart() {
        let a = TextWindows.examples(tokens: Array(0..<10), maxLength: 4)
        var b = a
        b[1].ids[0] = 99
        XCTAssertEqual(DataFingerprint.of(a), DataFingerprint.of(TextWindows.examples(tokens: Array(0..<10), maxLength: 4)))
        XCTAssertNotEqual(DataFingerprint.of(a), DataFingerprint.of(b))
        XCTAssertNotEqual(DataFingerprint.of(a), DataFingerprint.of(Array(a.reversed())))
    }

    private func write(_ text: String, name: String) throws -> URL {
        let directory = TinyTraining.scratchDirectory("data")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}
