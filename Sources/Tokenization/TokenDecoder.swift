/// Turns ids back into text. For the ByteLevel decoder each token stands for bytes (its characters
/// mapped back through the byte alphabet, or its own UTF-8 if some character is outside it, e.g.
/// an added "  " token); the bytes of all tokens are joined and read as UTF-8, with U+FFFD for
/// invalid sequences. Without a decoder the library joins the token strings with spaces.
struct TokenDecoder: Sendable {
    /// The bytes each id decodes to; nil for ids without a token (skipped, as the library does).
    private let bytesForID: [[UInt8]?]
    private let specialIDs: Set<Int>
    let joinsWithSpaces: Bool

    init(tokenForID: [String?], specialIDs: Set<Int>, byteLevel: Bool) {
        bytesForID = tokenForID.map { token in
            token.map { byteLevel ? (ByteLevelAlphabet.decode($0) ?? Array($0.utf8)) : Array($0.utf8) }
        }
        self.specialIDs = specialIDs
        joinsWithSpaces = !byteLevel
    }

    func isSpecial(_ id: Int) -> Bool { specialIDs.contains(id) }

    /// The bytes of one token, or nil if the id is unknown or skipped.
    func bytes(for id: Int, skipSpecialTokens: Bool) -> [UInt8]? {
        guard id >= 0, id < bytesForID.count, let bytes = bytesForID[id] else { return nil }
        if skipSpecialTokens && specialIDs.contains(id) { return nil }
        return bytes
    }

    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
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
