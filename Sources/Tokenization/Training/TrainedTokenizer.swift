import Foundation

/// The result of `BPETrainer`: a vocabulary and merges, written as a GPT-NeoX-style tokenizer.json
/// (NFC normalizer, ByteLevel pre-tokenizer without prefix space, BPE, ByteLevel post-processor and
/// decoder, the special tokens as added tokens) that both `Tokenizer` and Python `tokenizers` load.
public struct TrainedTokenizer: Sendable {
    /// Vocabulary spellings by id (byte-level characters, e.g. "Ġthe"; special tokens as written).
    public let tokens: [String]
    /// Merges by rank, as pairs of token ids.
    public let merges: [(left: Int, right: Int)]
    /// The special tokens with their ids, by id (a token listed twice appears once).
    public let specialTokens: [(id: Int, content: String)]

    /// tokenizer.json bytes, laid out as `tokenizers`' `Tokenizer.save` (pretty) writes them.
    public func jsonData() -> Data {
        TokenizerJSONWriter.write(self)
    }

    /// The trained tokenizer, ready to encode (read back from its tokenizer.json).
    public func tokenizer() throws -> Tokenizer {
        try Tokenizer(data: jsonData(), path: "trained tokenizer.json")
    }
}
