import Foundation

/// The first step of BPE training: how often each pre-tokenized word occurs in a corpus.
///
/// Text goes through the same normalizer (NFC) and pre-tokenizer (GPT-2 split, as ByteLevel with
/// `use_regex`) that the trained tokenizer.json will name, so training sees exactly the words that
/// encoding will. Each text is one sequence, as one item of `tokenizers`' `train_from_iterator`;
/// `addLines` cuts a text into lines that keep their "\n", as `tokenizers`' `train(files)` reads a file.
///
/// Words are kept as raw bytes (the byte-level alphabet is applied later, symbol by symbol) in one
/// flat arena with an open-addressing index, so counting a word that was seen before allocates nothing.
public struct WordCounter: Sendable {
    struct Entry {
        var hash: UInt64
        var start: Int
        var length: Int
        var count: Int
    }

    let normalizer = Normalizer.nfc
    // ByteLevel(add_prefix_space: false, use_regex: true) cannot fail to build.
    let preTokenizer = try! PreTokenizer(.byteLevel(addPrefixSpace: false, useRegex: true))

    private(set) var entries: [Entry] = []
    private(set) var bytes: [UInt8] = []
    private var slots = [Int32](repeating: -1, count: 1 << 16)

    /// How many sequences and UTF-8 bytes (before normalization) were added.
    public private(set) var sequenceCount = 0
    public private(set) var byteCount = 0
    /// Every word occurrence, and the distinct words.
    public private(set) var wordCount = 0
    public var uniqueWordCount: Int { entries.count }

    public init() {}

    /// Counts the words of one sequence.
    public mutating func add(_ text: String) {
        byteCount += text.utf8.count
        var normalized = normalizer.normalize(text)
        normalized.withUTF8 { addNormalized($0) }
    }

    /// Counts the words of every line of `text`; each line keeps its "\n" and is a sequence of its own.
    public mutating func addLines(of text: String) {
        byteCount += text.utf8.count
        // NFC never composes across a "\n" (a starter that combines with nothing), so normalizing
        // the whole text equals normalizing line by line.
        var normalized = normalizer.normalize(text)
        normalized.withUTF8 { all in
            var start = 0
            while start < all.count {
                var end = start
                while end < all.count && all[end] != UInt8(ascii: "\n") { end += 1 }
                end = min(end + 1, all.count)
                addNormalized(UnsafeBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
    }

    private mutating func addNormalized(_ text: UnsafeBufferPointer<UInt8>) {
        sequenceCount += 1
        let preTokenizer = self.preTokenizer
        preTokenizer.forEachWord(in: text) { word in
            wordCount += 1
            insert(word, count: 1)
        }
    }

    /// Adds the counts of another counter (e.g. one per file, counted in parallel).
    public mutating func merge(_ other: WordCounter) {
        sequenceCount += other.sequenceCount
        byteCount += other.byteCount
        wordCount += other.wordCount
        other.bytes.withUnsafeBufferPointer { otherBytes in
            for entry in other.entries {
                insert(UnsafeBufferPointer(rebasing: otherBytes[entry.start..<entry.start + entry.length]), count: entry.count)
            }
        }
    }

    /// Calls `body` with every distinct word (raw bytes) and its count, in order of first occurrence.
    func forEachWord(_ body: (UnsafeBufferPointer<UInt8>, Int) -> Void) {
        bytes.withUnsafeBufferPointer { all in
            for entry in entries {
                body(UnsafeBufferPointer(rebasing: all[entry.start..<entry.start + entry.length]), entry.count)
            }
        }
    }

    // MARK: - The index

    private mutating func insert(_ word: UnsafeBufferPointer<UInt8>, count: Int) {
        let hash = Self.hash(word)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { break }
            if entries[index].hash == hash && entries[index].length == word.count && isStored(word, at: entries[index].start) {
                entries[index].count += count
                return
            }
            slot = (slot + 1) & mask
        }
        slots[slot] = Int32(entries.count)
        entries.append(Entry(hash: hash, start: bytes.count, length: word.count, count: count))
        bytes.append(contentsOf: word)
        if entries.count * 2 > slots.count { grow() }
    }

    private func isStored(_ word: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        word.isEmpty || bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + start, word.baseAddress!, word.count) == 0 }
    }

    /// Doubles the index (load factor stays at most 1/2).
    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (index, entry) in entries.enumerated() {
            var slot = Int(truncatingIfNeeded: entry.hash) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
    }

    /// FNV-1a over 8-byte chunks with an extra shift to spread the high bits into the slot bits.
    @inline(__always)
    private static func hash(_ word: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(word.count)
        let raw = UnsafeRawBufferPointer(word)
        var index = 0
        while index + 8 <= word.count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0x0000_0100_0000_01B3
            hash ^= hash >> 29
            index += 8
        }
        while index < word.count {
            hash = (hash ^ UInt64(word[index])) &* 0x0000_0100_0000_01B3
            index += 1
        }
        return hash ^ (hash >> 32)
    }
}
