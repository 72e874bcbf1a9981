/// The BPE model of a tokenizer.json: vocabulary, merge ranks and the options of `model`.
/// Turns one pre-tokenized word into token ids.
struct BytePairModel: Sendable {
    let vocabulary: [String: Int]
    let merges: MergeTable
    /// Byte-level tokenizers: the id of each byte's one-character token (-1 if absent).
    private let idForByte: [Int32]
    /// Whole-word ids keyed by the word's bytes as the pre-tokenizer hands them over (raw bytes for
    /// byte-level files); used by `ignore_merges`.
    private let idForWord: [[UInt8]: Int32]
    /// Ids by the exact UTF-8 of the token: a `String` key also matches canonically equivalent
    /// spellings ("ö" finds "o\u{308}"), which the library keeps apart (SentencePiece vocabularies).
    private let idForUTF8: [[UInt8]: Int]
    let unknownID: Int32?
    let unknownToken: String?
    let continuingSubwordPrefix: String?
    let endOfWordSuffix: String?
    let fuseUnknown: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    let isByteLevel: Bool

    init(_ json: ModelJSON, isByteLevel: Bool) throws {
        vocabulary = json.vocab
        self.isByteLevel = isByteLevel
        continuingSubwordPrefix = json.continuingSubwordPrefix.flatMap { $0.isEmpty ? nil : $0 }
        endOfWordSuffix = json.endOfWordSuffix.flatMap { $0.isEmpty ? nil : $0 }
        fuseUnknown = json.fuseUnk
        byteFallback = json.byteFallback
        ignoreMerges = json.ignoreMerges
        unknownToken = json.unkToken
        unknownID = json.unkToken.flatMap { json.vocab[$0] }.map(Int32.init)

        var rules: [(left: Int32, right: Int32, merged: Int32)] = []
        rules.reserveCapacity(json.merges.count)
        let prefixLength = continuingSubwordPrefix?.count ?? 0
        for (index, (left, right)) in json.merges.enumerated() {
            guard let leftID = json.vocab[left] else {
                throw TokenizerFileProblem.inconsistent("merge #\(index) \"\(left) \(right)\": token \"\(left)\" is not in model.vocab")
            }
            guard let rightID = json.vocab[right] else {
                throw TokenizerFileProblem.inconsistent("merge #\(index) \"\(left) \(right)\": token \"\(right)\" is not in model.vocab")
            }
            // With a continuing-subword prefix ("##"), "a" + "##b" merges into "ab".
            let mergedToken = left + (prefixLength > 0 && right.hasPrefix(continuingSubwordPrefix!) ? String(right.dropFirst(prefixLength)) : right)
            guard let mergedID = json.vocab[mergedToken] else {
                throw TokenizerFileProblem.inconsistent("merge #\(index) \"\(left) \(right)\": result \"\(mergedToken)\" is not in model.vocab")
            }
            rules.append((Int32(leftID), Int32(rightID), Int32(mergedID)))
        }
        merges = MergeTable(rules)

        var byteIDs = [Int32](repeating: -1, count: 256)
        if isByteLevel {
            for byte in 0..<256 {
                if let id = json.vocab[String(ByteLevelAlphabet.scalarForByte[byte])] { byteIDs[byte] = Int32(id) }
            }
        }
        idForByte = byteIDs
        var words: [[UInt8]: Int32] = [:]
        if json.ignoreMerges {
            for (token, id) in json.vocab {
                if let key = isByteLevel ? ByteLevelAlphabet.decode(token) : Array(token.utf8) { words[key] = Int32(id) }
            }
        }
        idForWord = words
        idForUTF8 = Dictionary(json.vocab.map { (Array($0.key.utf8), $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Appends the ids of one word to `output` (and to `scratch`, reused between calls).
    func encode(_ word: UnsafeBufferPointer<UInt8>, into symbols: inout [Int32]) {
        symbols.removeAll(keepingCapacity: true)
        if ignoreMerges, let id = idForWord[Array(word)] {
            symbols.append(id)
            return
        }
        if !initialBytes(word, into: &symbols) { initialCharacters(word, into: &symbols) }
        MergeLoop.apply(&symbols, merges)
    }

    /// Fast path: a byte-level word whose every byte is a vocabulary token (always, in practice).
    @inline(__always)
    private func initialBytes(_ word: UnsafeBufferPointer<UInt8>, into symbols: inout [Int32]) -> Bool {
        guard isByteLevel, continuingSubwordPrefix == nil, endOfWordSuffix == nil else { return false }
        for byte in word {
            let id = idForByte[Int(byte)]
            if id < 0 { symbols.removeAll(keepingCapacity: true); return false }
            symbols.append(id)
        }
        return true
    }

    /// The library's general path: one symbol per character (per byte character if byte-level),
    /// with the subword prefix / word suffix, byte fallback to <0xXX> tokens, and unknown tokens.
    private func initialCharacters(_ word: UnsafeBufferPointer<UInt8>, into symbols: inout [Int32]) {
        let characters: [String]
        if isByteLevel {
            characters = word.map { String(ByteLevelAlphabet.scalarForByte[Int($0)]) }
        } else {
            characters = String(decoding: word, as: UTF8.self).unicodeScalars.map { String($0) }
        }
        var pendingUnknown = false
        for (index, character) in characters.enumerated() {
            var symbol = character
            if index > 0, let prefix = continuingSubwordPrefix { symbol = prefix + symbol }
            if index == characters.count - 1, let suffix = endOfWordSuffix { symbol += suffix }
            if let id = idForUTF8[Array(symbol.utf8)] {
                if pendingUnknown, let unknownID { symbols.append(unknownID) }
                pendingUnknown = false
                symbols.append(Int32(id))
                continue
            }
            if byteFallback {
                let byteIDs = symbol.utf8.map { vocabulary[Self.byteFallbackToken($0)] }
                if byteIDs.allSatisfy({ $0 != nil }) {
                    // The library adds byte tokens without flushing a pending unknown first.
                    symbols.append(contentsOf: byteIDs.map { Int32($0!) })
                    continue
                }
            }
            guard let unknownID else { continue }
            if pendingUnknown && !fuseUnknown { symbols.append(unknownID) }
            pendingUnknown = true
        }
        if pendingUnknown, let unknownID { symbols.append(unknownID) }
    }

    /// "<0x0A>" style names of byte-fallback tokens.
    static func byteFallbackToken(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }
}
