/// Streaming for chain decoders (SentencePiece files): their steps see every token of the call
/// (the leading space is stripped from the first one only, runs of byte tokens decode together), so
/// the stream decodes all ids so far and emits what is new. Text ending in a run of byte-fallback
/// tokens is held back until a following token completes the character.
extension StreamingDetokenizer {
    mutating func appendToChain(_ id: Int) -> String {
        chainIDs.append(id)
        if let token = tokenizer.token(for: id), TokenChainDecoder.fallbackByte(token) != nil { return "" }
        return emitNewChainText()
    }

    mutating func finishChain() -> String {
        defer { chainIDs.removeAll(); chainEmitted = "" }
        return emitNewChainText()
    }

    private mutating func emitNewChainText() -> String {
        let text = tokenizer.decode(chainIDs, skipSpecialTokens: skipSpecialTokens)
        guard text.unicodeScalars.starts(with: chainEmitted.unicodeScalars) else { return "" }
        var new = String.UnicodeScalarView()
        new.append(contentsOf: text.unicodeScalars.dropFirst(chainEmitted.unicodeScalars.count))
        chainEmitted = text
        return String(new)
    }
}
