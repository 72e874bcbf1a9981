/// The BPE merge rules as a hash table from a pair of token ids to (rank, id of the merged token).
/// Open addressing over two flat arrays: one multiply and usually one probe per lookup, which the
/// merge loop does for every adjacent pair.
struct MergeTable: Sendable {
    /// A merge found for a pair: lower rank merges first.
    struct Merge: Equatable {
        var rank: UInt32
        var merged: Int32
    }

    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private static let empty = UInt64.max
    static let none = UInt64.max

    init(_ merges: [(left: Int32, right: Int32, merged: Int32)]) {
        var capacity = 16
        while capacity < merges.count * 2 { capacity *= 2 }
        keys = [UInt64](repeating: Self.empty, count: capacity)
        values = [UInt64](repeating: Self.none, count: capacity)
        mask = capacity - 1
        for (rank, merge) in merges.enumerated() {
            let key = Self.key(merge.left, merge.right)
            var slot = Self.slot(key, mask)
            while keys[slot] != Self.empty && keys[slot] != key { slot = (slot + 1) & mask }
            // A repeated pair keeps its last rank, as the library's HashMap collect does.
            keys[slot] = key
            values[slot] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merge.merged))
        }
    }

    @inline(__always) private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always) private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// rank << 32 | merged id, or `MergeTable.none`; packed so that comparing two results compares
    /// ranks first.
    @inline(__always)
    func packedLookup(_ left: Int32, _ right: Int32) -> UInt64 {
        let key = Self.key(left, right)
        var slot = Self.slot(key, mask)
        return keys.withUnsafeBufferPointer { keys in
            while true {
                let found = keys[slot]
                if found == key { return values[slot] }
                if found == Self.empty { return Self.none }
                slot = (slot + 1) & mask
            }
        }
    }

    func lookup(_ left: Int32, _ right: Int32) -> Merge? {
        let packed = packedLookup(left, right)
        guard packed != Self.none else { return nil }
        return Merge(rank: UInt32(packed >> 32), merged: Int32(truncatingIfNeeded: packed))
    }
}
