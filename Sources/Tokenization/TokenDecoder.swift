/// Turns ids back into text. For the ByteLevel decoder each token stands for bytes (its characters
/// mapped back through the byte alphabet, or its own UTF-8 if some character is outside it, e.g.
/// an added "  " token); the bytes of all tokens are joined and read as UTF-8, with U+FFFD for
/// invalid sequences. Without a decoder the library joins the token strings with spaces. The
/// SentencePiece decoders (Replace, ByteFallback, Fuse, Strip, Metaspace) work on the token strings
/// instead: `chain`.
struct TokenDecoder: Sendable {
    /// The bytes each id decodes to; nil for ids without a token (skipped, as the library does).
    private let bytesForID: [[UInt8]?]
    private let specialIDs: Set<Int>
    let joinsWithSpaces: Bool
    /// The decoder chain of a non-byte-level file, which sees every token of a call at once.
    let chain: TokenChainDecoder?
    private let tokenForID: [String?]

    init(tokenForID: [String?], specialIDs: Set<Int>, decoder: DecoderJSON?) throws {
        chain = try decoder.flatMap(TokenChainDecoder.init)
        let byteLevel = decoder != nil && chain == nil
        bytesForID = tokenForID.map { token in
            token.map { byteLevel ? (ByteLevelAlphabet.decode($0) ?? Array($0.utf8)) : Array($0.utf8) }
        }
        self.tokenForID = tokenForID
        self.specialIDs = specialIDs
        joinsWithSpaces = decoder == nil
    }

    func isSpecial(_ id: Int) -> Bool { specialIDs.contains(id) }

    /// The bytes of one token, or nil if the id is unknown or skipped.
    func bytes(for id: Int, skipSpecialTokens: Bool) -> [UInt8]? {
        guard id >= 0, id < bytesForID.count, let bytes = bytesForID[id] else { return nil }
        if skipSpecialTokens && specialIDs.contains(id) { return nil }
        return bytes
    }

    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        if let chain {
            return chain.decode(ids.compactMap { id in
                bytes(for: id, skipSpecialTokens: skipSpecialTokens) == nil ? nil : tokenForID[id]
            })
        }
        var output: [UInt8] = []
        var first = true
        for id in ids {
            guard let bytes = bytes(for: id, skipSpecialTokens: skipSpecialTokens) else { continue }
            if joinsWithSpaces && !first { output.append(0x20) }
            output += bytes
            first = false
        }
        return String(decoding: output, as: UTF8.self)
    }
}
