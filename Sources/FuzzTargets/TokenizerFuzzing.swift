import Foundation
import Tokenization

/// tokenizer.json files, and text through tokenizers.
enum TokenizerFuzzing {
    /// The committed reference tokenizers (byte-level: GPT-NeoX, Llama-3 split, …; SentencePiece-BPE: Llama-2
    /// legacy, Metaspace), loaded once.
    static let committed: [Tokenizer] = ["tokenizers/neox", "tokenizers/llama3split", "tokenizers/prefix", "tokenizers/split",
                                         "tokenizers-llama/llama2", "tokenizers-llama/metaspace_split"].compactMap {
        try? Tokenizer(url: FuzzScratch.fixtures.appendingPathComponent("\($0).tokenizer.json"))
    }

    /// The input as tokenizer.json; when it loads, its own text (and a fixed sentence) is encoded and decoded.
    static func runFile(_ data: Data) {
        guard let tokenizer = try? Tokenizer(data: data) else { return }
        exercise(tokenizer, text: "Hello  world,\t<|endoftext|> ünïcödé 🙂 12345\n" + String(decoding: data.prefix(2048), as: UTF8.self))
    }

    /// The input as text through every committed tokenizer, and its bytes as ids (pairs, little-endian).
    static func runText(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        let ids = stride(from: 0, to: data.count - 1, by: 2).map { Int(data[data.startIndex + $0]) | Int(data[data.startIndex + $0 + 1]) << 8 }
        for tokenizer in committed {
            exercise(tokenizer, text: text)
            stream(tokenizer, ids: ids)
        }
    }

    /// Encode with and without special tokens, decode both ways, stream-decode, look every id up.
    static func exercise(_ tokenizer: Tokenizer, text: String) {
        for special in [true, false] {
            let ids = tokenizer.encode(text, addSpecialTokens: special)
            _ = tokenizer.decode(ids, skipSpecialTokens: special)
            stream(tokenizer, ids: ids)
            for id in ids.prefix(64) { _ = tokenizer.token(for: id).flatMap(tokenizer.id(of:)) }
        }
    }

    /// The streaming detokenizer over `ids` and ids outside the vocabulary.
    static func stream(_ tokenizer: Tokenizer, ids: [Int]) {
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        for id in ids + [-1, tokenizer.vocabularySize, Int.max] { _ = detokenizer.append(id) }
        _ = detokenizer.finish()
        _ = tokenizer.decode(ids + [Int.min, tokenizer.vocabularySize])
    }
}
