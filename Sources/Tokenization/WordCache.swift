import Foundation

/// Remembers the token ids of words already encoded; natural text repeats its words, so most
/// lookups hit. Keys and values live in two flat arenas, so a lookup hashes the word's bytes in
/// place and allocates nothing. When full it starts over (bounded memory on endless input).
struct WordCache: Sendable {
    private struct Entry {
        var hash: UInt64
        var keyStart: Int32
        var keyLength: Int32
        var idsStart: Int32
        var idsCount: Int32
    }

    static let maxWordLength = 256
    private let capacity: Int
    private var slots: [Int32]
    private var entries: [Entry] = []
    private var keyBytes: [UInt8] = []
    private var ids: [Int32] = []

    /// Allocates nothing until the first insert, so an empty cache is free to create.
    init(capacity: Int = 1 << 16) {
        self.capacity = capacity
        slots = []
    }

    @inline(__always)
    private static func hash(_ word: UnsafeBufferPointer<UInt8>) -> UInt64 {
        // FNV-1a over 8-byte chunks: a little stronger than per-byte FNV and four times fewer steps.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(word.count)
        var index = 0
        let raw = UnsafeRawBufferPointer(word)
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

    /// Appends the cached ids of `word` to `output`; false if the word is not cached.
    func append(_ word: UnsafeBufferPointer<UInt8>, to output: inout [Int]) -> Bool {
        guard !entries.isEmpty else { return false }
        let hash = Self.hash(word)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let index = slots[slot]
            if index < 0 { return false }
            let entry = entries[Int(index)]
            if entry.hash == hash && Int(entry.keyLength) == word.count {
                let same = keyBytes.withUnsafeBufferPointer { keys in
                    word.count == 0 || memcmp(keys.baseAddress! + Int(entry.keyStart), word.baseAddress!, word.count) == 0
                }
                if same {
                    for i in Int(entry.idsStart)..<Int(entry.idsStart + entry.idsCount) { output.append(Int(ids[i])) }
                    return true
                }
            }
            slot = (slot + 1) & mask
        }
    }

    mutating func insert(_ word: UnsafeBufferPointer<UInt8>, _ tokenIDs: ArraySlice<Int32>) {
        guard word.count <= Self.maxWordLength else { return }
        if entries.count >= capacity { self = WordCache(capacity: capacity) }
        if slots.isEmpty { slots = [Int32](repeating: -1, count: capacity * 2) }
        let hash = Self.hash(word)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(entries.count)
        entries.append(Entry(hash: hash, keyStart: Int32(keyBytes.count), keyLength: Int32(word.count),
                             idsStart: Int32(ids.count), idsCount: Int32(tokenIDs.count)))
        keyBytes.append(contentsOf: word)
        ids.append(contentsOf: tokenIDs)
    }
}
