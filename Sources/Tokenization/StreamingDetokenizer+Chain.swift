/// Streaming for chain decoders (SentencePiece files): their steps see every token of the call (the leading
/// space is stripped from the first one only, runs of byte tokens decode together), so the stream decodes a
/// window of ids and emits what is new. The window starts where the previous emission started: `chainIDs`
/// are the ids from there, the first `chainRead` of them already emitted, `chainEmitted` their text decoded
/// alone. Each token thus costs a decode of a few tokens, not of the whole stream (decoding every id so
/// far made a stream of n tokens cost O(n²): the fuzzers' timeouts of 2026-12-05). Text ending in a run of
/// byte-fallback tokens is held back until a following token completes the character.
extension StreamingDetokenizer {
    mutating func appendToChain(_ id: Int) -> String {
        chainIDs.append(id)
        if let token = tokenizer.token(for: id), TokenChainDecoder.fallbackByte(token) != nil { return "" }
        return emitNewChainText()
    }

    mutating func finishChain() -> String {
        defer { chainIDs.removeAll(); chainRead = 0; chainEmitted = "" }
        return emitNewChainText()
    }

    private mutating func emitNewChainText() -> String {
        let text = tokenizer.decode(chainIDs, skipSpecialTokens: skipSpecialTokens)
        guard text.unicodeScalars.starts(with: chainEmitted.unicodeScalars) else { return "" }
        var new = String.UnicodeScalarView()
        new.append(contentsOf: text.unicodeScalars.dropFirst(chainEmitted.unicodeScalars.count))
        // Slide the window: the ids just emitted start the next one (decoded alone, as the next window will
        // decode them: the same first token, so the same stripped space).
        chainIDs.removeFirst(chainRead)
        chainRead = chainIDs.count
        chainEmitted = tokenizer.decode(chainIDs, skipSpecialTokens: skipSpecialTokens)
        return String(new)
    }
}
