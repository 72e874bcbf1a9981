extension Tokenizer {
    /// The bytes one token stands for (a byte-level token may hold part of a UTF-8 character); empty for
    /// an id without a token. What OpenAI's chat log-probabilities report as `bytes`.
    public func bytes(of id: Int) -> [UInt8] {
        decoder.bytes(for: id, skipSpecialTokens: false) ?? []
    }
}
