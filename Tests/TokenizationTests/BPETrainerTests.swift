import Foundation
import XCTest
@testable import Tokenization

/// `BPETrainer` against Python `tokenizers` (scripts/fixtures/tokenizer_training.py, Tests/Fixtures/
/// tokenizer-training/), against its slow twin, and for the properties a trained tokenizer must have.
final class BPETrainerTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizer-training")

    private struct CaseFile: Decodable {
        struct Settings: Decodable {
            var vocab_size: Int
            var min_frequency: Int
            var special_tokens: [String]
        }
        struct Case: Decodable {
            var text: String
            var ids: [Int]
        }
        var settings: Settings
        var cases: [Case]
    }

    private static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    private static func cases() throws -> CaseFile {
        try JSONDecoder().decode(CaseFile.self, from: fixture("cases.json"))
    }

    /// The fixture corpus read as `tokenizers`' `train(files)` and `remamba train-tokenizer` read it.
    private static func trainOnFixtureCorpus() throws -> TrainedTokenizer {
        let settings = try cases().settings
        var counter = WordCounter()
        counter.addLines(of: try TextFile.read(directory.appendingPathComponent("corpus.txt")))
        return BPETrainer(vocabularySize: settings.vocab_size, minFrequency: settings.min_frequency,
                          specialTokens: settings.special_tokens).train(words: counter)
    }

    private static let smallCorpus: [String] = {
        let lines = (try? TextFile.read(directory.appendingPathComponent("corpus.txt")))?
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init) ?? []
        return Array(lines.prefix(60)) + ["Cafe\u{301} cafe\u{301} café", "aaaa aaaaaaa aaa", "<|endoftext|> x"]
    }()

    // MARK: - Python tokenizers

    /// Same corpus, same settings: the Swift tokenizer.json is byte-for-byte the one Python saved
    /// (so the vocabulary, its ids, and the merges in rank order are all identical).
    func testTrainedFileIsByteIdenticalToPythonTokenizers() throws {
        let trained = try Self.trainOnFixtureCorpus()
        let swift = trained.jsonData()
        let python = try Self.fixture("python.tokenizer.json")
        print("BPETrainer vs tokenizers: \(trained.tokens.count) tokens, \(trained.merges.count) merges, " +
              "\(swift.count) vs \(python.count) bytes, identical: \(swift == python)")
        XCTAssertEqual(swift, python, "the Swift-trained tokenizer.json differs from python.tokenizer.json")
        XCTAssertEqual(swift, try Self.fixture("swift.tokenizer.json"),
                       "swift.tokenizer.json is stale: regenerate it with the script's --remamba")
    }

    /// The Swift-trained tokenizer encodes the ~200 case strings to Python's ids.
    func testTrainedTokenizerEncodesLikePython() throws {
        let tokenizer = try Self.trainOnFixtureCorpus().tokenizer()
        let cases = try Self.cases().cases
        var differing = 0
        for sample in cases where tokenizer.encode(sample.text) != sample.ids {
            differing += 1
            XCTFail("\(sample.text.debugDescription): \(tokenizer.encode(sample.text)) expected \(sample.ids)")
        }
        print("BPETrainer: \(cases.count - differing)/\(cases.count) encodings identical to tokenizers'")
    }

    /// Python loaded swift.tokenizer.json (as written by the CLI) and found it identical: see swift-check.json.
    func testPythonAcceptedTheSwiftFile() throws {
        struct Check: Decodable {
            var swift_file_bytes: Int
            var byte_identical_file: Bool
            var identical_vocab: Bool
            var identical_merges: Bool
            var cases: Int
            var identical_encodings: Int
        }
        let check = try JSONDecoder().decode(Check.self, from: Self.fixture("swift-check.json"))
        XCTAssertEqual(check.swift_file_bytes, try Self.fixture("swift.tokenizer.json").count,
                       "swift-check.json was made for another swift.tokenizer.json")
        XCTAssertTrue(check.byte_identical_file && check.identical_vocab && check.identical_merges)
        XCTAssertEqual(check.identical_encodings, check.cases)
        XCTAssertGreaterThanOrEqual(check.cases, 200)
    }

    // MARK: - The slow twin

    func testFastTrainerAgreesWithRecountingEveryMerge() {
        for (size, minFrequency) in [(450, 0), (400, 3)] {
            let specials = ["<|endoftext|>", "<|padding|>"]
            let fast = BPETrainer(vocabularySize: size, minFrequency: minFrequency, specialTokens: specials)
                .train(texts: Self.smallCorpus)
            let slow = ReferenceBPETrainer.train(Self.smallCorpus, vocabularySize: size, minFrequency: minFrequency,
                                                 specialTokens: specials)
            XCTAssertEqual(fast.tokens, slow.tokens, "vocabulary, size \(size)")
            XCTAssertEqual(fast.merges.map { [$0.left, $0.right] }, slow.merges.map { [$0.left, $0.right] },
                           "merges, size \(size)")
            XCTAssertGreaterThan(fast.merges.count, 100)
        }
    }

    // MARK: - Properties

    func testRoundTripGivesBackNormalizedText() throws {
        let tokenizer = try BPETrainer(vocabularySize: 500, minFrequency: 2, specialTokens: ["<|endoftext|>"])
            .train(texts: Self.smallCorpus).tokenizer()
        let texts = Self.smallCorpus + (try Self.cases().cases.map(\.text))
        for text in texts {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text)), Normalizer.nfc(text), text.debugDescription)
        }
    }

    func testDeterministicAndIndependentOfTextOrder() {
        let trainer = BPETrainer(vocabularySize: 600, minFrequency: 2, specialTokens: ["<|endoftext|>"])
        let first = trainer.train(texts: Self.smallCorpus).jsonData()
        XCTAssertEqual(first, trainer.train(texts: Self.smallCorpus).jsonData())
        XCTAssertEqual(first, trainer.train(texts: Self.smallCorpus.reversed()).jsonData())
    }

    func testVocabularySizeAndSpecialTokens() throws {
        let specials = ["<|endoftext|>", "<|padding|>", "<|endoftext|>"]  // a repeat is kept once
        let trained = BPETrainer(vocabularySize: 700, minFrequency: 2, specialTokens: specials)
            .train(texts: Self.smallCorpus)
        XCTAssertEqual(trained.tokens.count, 700)
        XCTAssertEqual(trained.merges.count, 700 - 2 - 256)
        XCTAssertEqual(trained.specialTokens.map(\.id), [0, 1])
        let tokenizer = try trained.tokenizer()
        XCTAssertEqual(tokenizer.vocabularySize, 700)
        XCTAssertEqual(tokenizer.id(of: "<|endoftext|>"), 0)
        XCTAssertEqual(tokenizer.id(of: "<|padding|>"), 1)
        XCTAssertEqual(tokenizer.eosTokenID, 0)
        XCTAssertTrue(tokenizer.isSpecial(0) && tokenizer.isSpecial(1))
        let ids = tokenizer.encode("the model<|endoftext|><|padding|>")
        XCTAssertEqual(Array(ids.suffix(2)), [0, 1])
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "the model")
        // Every byte has a symbol, so text never seen in training still encodes and round-trips.
        let unseen = "ไทย 🤖 \u{0}\u{7f}"
        XCTAssertEqual(tokenizer.decode(tokenizer.encode(unseen)), unseen)
        for byte in 0..<256 {
            XCTAssertNotNil(tokenizer.id(of: String(ByteLevelAlphabet.scalarForByte[byte])), "byte \(byte)")
        }
    }

    func testMinimumFrequencyStopsEarly() {
        let trained = BPETrainer(vocabularySize: 100_000, minFrequency: 5).train(texts: Self.smallCorpus)
        XCTAssertLessThan(trained.tokens.count, 100_000)
        XCTAssertEqual(trained.tokens.count, 256 + trained.merges.count)
        let slow = ReferenceBPETrainer.train(Self.smallCorpus, vocabularySize: 100_000, minFrequency: 5, specialTokens: [])
        XCTAssertEqual(trained.tokens, slow.tokens)
    }

    /// Special tokens with characters JSON must escape are written as serde_json writes them and load back.
    func testEscapedSpecialTokensLoad() throws {
        XCTAssertEqual(TokenizerJSONWriter.quoted("a\"b\\c\n\t\u{1}\u{7f}é"), #""a\"b\\c\n\t\u0001"# + "\u{7f}é\"")
        let specials = ["<\"quoted\">", "back\\slash", "tab\there"]
        let tokenizer = try BPETrainer(vocabularySize: 300, specialTokens: specials).train(texts: ["hello hello"]).tokenizer()
        for (id, token) in specials.enumerated() { XCTAssertEqual(tokenizer.id(of: token), id) }
    }
}
