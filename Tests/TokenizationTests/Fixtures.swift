import Foundation
@testable import Tokenization

/// The committed reference data of scripts/fixtures/tokenizers.py (Tests/Fixtures/tokenizers/) and of
/// scripts/fixtures/tokenizers_llama.py (Tests/Fixtures/tokenizers-llama/: SentencePiece-BPE files).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizers")
    static let llamaDirectory = directory.deletingLastPathComponent().appendingPathComponent("tokenizers-llama")

    static let sentencePieceNames = ["llama2", "metaspace", "metaspace_split"]
    static let names = ["neox", "prefix", "split", "llama3split"] + sentencePieceNames

    static func folder(_ name: String) -> URL { sentencePieceNames.contains(name) ? llamaDirectory : directory }

    /// One string and what `tokenizers` made of it. Optional fields were left out of the file when
    /// equal to an earlier one (see the script's `cases_for`).
    struct Case: Decodable {
        var text: String
        var ids: [Int]
        var idsPlain: [Int]?
        var normalized: String?
        var decoded: String?
        var decodedSkip: String?

        enum CodingKeys: String, CodingKey {
            case text, ids, idsPlain = "ids_plain", normalized, decoded, decodedSkip = "decoded_skip"
        }

        var expectedPlainIDs: [Int] { idsPlain ?? ids }
        var expectedNormalized: String { normalized ?? text }
        var expectedDecoded: String { decoded ?? expectedNormalized }
        var expectedDecodedSkippingSpecials: String { decodedSkip ?? expectedDecoded }
    }

    private struct CaseFile: Decodable {
        var tokenizer: String
        var cases: [Case]
    }

    static func tokenizerURL(_ name: String) -> URL {
        folder(name).appendingPathComponent("\(name).tokenizer.json")
    }

    static func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer(url: tokenizerURL(name))
    }

    static func cases(_ name: String) throws -> [Case] {
        let data = try Data(contentsOf: folder(name).appendingPathComponent("\(name).cases.json"))
        return try JSONDecoder().decode(CaseFile.self, from: data).cases
    }
}
