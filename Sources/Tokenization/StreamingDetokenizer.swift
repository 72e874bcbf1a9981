/// Turns ids into text as they arrive during generation. A token may end in the middle of a
/// multi-byte character (byte-level BPE splits emoji and CJK across tokens), so bytes that could
/// still become a valid character are held back until the next token completes them. The text
/// emitted over a whole stream equals `decode` of all its ids.
public struct StreamingDetokenizer {
    let tokenizer: Tokenizer
    let skipSpecialTokens: Bool
    private var pending: [UInt8] = []
    private var emittedAny = false
    /// Chain decoders (SentencePiece files): the window of ids decoded on each token, how many of them were
    /// emitted before, and their text (StreamingDetokenizer+Chain).
    var chainIDs: [Int] = []
    var chainRead = 0
    var chainEmitted = ""

    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one id; returns the text that is now complete (possibly "").
    public mutating func append(_ id: Int) -> String {
        if tokenizer.decoder.chain != nil { return appendToChain(id) }
        guard let bytes = tokenizer.decoder.bytes(for: id, skipSpecialTokens: skipSpecialTokens) else { return "" }
        if tokenizer.decoder.joinsWithSpaces && emittedAny { pending.append(0x20) }
        emittedAny = true
        pending += bytes
        let complete = Self.completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Flushes what is held back (invalid leftovers become U+FFFD, as in `decode`).
    public mutating func finish() -> String {
        if tokenizer.decoder.chain != nil { return finishChain() }
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// The length of the longest prefix after which nothing is an unfinished character: the
    /// trailing bytes are held back only if they are the valid start of a character.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        var start = bytes.count
        // A character is at most 4 bytes: look back at most 3 for its lead byte.
        while start > 0 && bytes.count - start < 4 {
            start -= 1
            let byte = bytes[start]
            if byte & 0xC0 != 0x80 {
                return isUnfinishedCharacter(bytes[start...]) ? start : bytes.count
            }
        }
        return bytes.count
    }

    private static func isUnfinishedCharacter(_ tail: ArraySlice<UInt8>) -> Bool {
        let lead = tail[tail.startIndex]
        let needed = UTF8Scalars.sequenceLength(lead: lead)
        guard needed > 1, tail.count < needed else { return false }
        if tail.count >= 2 {
            // The second byte's range depends on the lead (no overlongs, surrogates or > U+10FFFF).
            let second = tail[tail.startIndex + 1]
            switch lead {
            case 0xE0: if !(0xA0...0xBF).contains(second) { return false }
            case 0xED: if !(0x80...0x9F).contains(second) { return false }
            case 0xF0: if !(0x90...0xBF).contains(second) { return false }
            case 0xF4: if !(0x80...0x8F).contains(second) { return false }
            default: break
            }
        }
        return true
    }
}
