/// Applies BPE merges to the symbols of one word: repeatedly merge the adjacent pair with the lowest
/// rank, the leftmost one on ties, until no pair has a merge. Two implementations that must agree:
/// a linear scan for short words (almost all of them) and a heap for long ones, where the scan
/// would be quadratic. The heap one is the library's algorithm.
enum MergeLoop {
    static let heapThreshold = 48

    static func apply(_ symbols: inout [Int32], _ table: MergeTable) {
        if symbols.count < 2 { return }
        if symbols.count <= heapThreshold { linear(&symbols, table) } else { withHeap(&symbols, table) }
    }

    /// O(n²) in the worst case, but with a packed (rank, merged) cache per pair it is a short
    /// loop of compares for the usual 2–10 symbols.
    static func linear(_ symbols: inout [Int32], _ table: MergeTable) {
        var pairs = [UInt64](repeating: MergeTable.none, count: symbols.count - 1)
        for i in 0..<pairs.count { pairs[i] = table.packedLookup(symbols[i], symbols[i + 1]) }
        while !pairs.isEmpty {
            var best = 0
            for i in 1..<pairs.count where pairs[i] < pairs[best] { best = i }
            let packed = pairs[best]
            if packed == MergeTable.none { break }
            symbols[best] = Int32(truncatingIfNeeded: packed)
            symbols.remove(at: best + 1)
            pairs.remove(at: best)
            if best > 0 { pairs[best - 1] = table.packedLookup(symbols[best - 1], symbols[best]) }
            if best < pairs.count { pairs[best] = table.packedLookup(symbols[best], symbols[best + 1]) }
        }
    }

    /// O(n log n): a min-heap of (rank, position) over a doubly linked list of symbols. Entries
    /// made stale by an earlier merge are recognised by looking the current pair up again.
    static func withHeap(_ symbols: inout [Int32], _ table: MergeTable) {
        let count = symbols.count
        var next = (0..<count).map { $0 + 1 }
        var previous = (0..<count).map { $0 - 1 }
        var alive = [Bool](repeating: true, count: count)
        var heap = MinHeap()
        for i in 0..<(count - 1) {
            let packed = table.packedLookup(symbols[i], symbols[i + 1])
            if packed != MergeTable.none { heap.push(rankOnly(packed) | UInt64(i)) }
        }
        while let top = heap.pop() {
            let position = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            guard alive[position], next[position] < count else { continue }
            let right = next[position]
            let packed = table.packedLookup(symbols[position], symbols[right])
            guard packed != MergeTable.none, packed >> 32 == rank else { continue }
            symbols[position] = Int32(truncatingIfNeeded: packed)
            alive[right] = false
            next[position] = next[right]
            if next[right] < count { previous[next[right]] = position }
            if previous[position] >= 0 {
                let left = previous[position]
                let merge = table.packedLookup(symbols[left], symbols[position])
                if merge != MergeTable.none { heap.push(rankOnly(merge) | UInt64(left)) }
            }
            if next[position] < count {
                let merge = table.packedLookup(symbols[position], symbols[next[position]])
                if merge != MergeTable.none { heap.push(rankOnly(merge) | UInt64(position)) }
            }
        }
        var merged: [Int32] = []
        var i = 0
        while i < count { merged.append(symbols[i]); i = next[i] }
        symbols = merged
    }

    /// The rank half of a packed (rank, merged id), ready to take a position in the low half.
    @inline(__always)
    private static func rankOnly(_ packed: UInt64) -> UInt64 { packed & 0xFFFF_FFFF_0000_0000 }
}

/// A binary min-heap of UInt64 keys (rank in the high half, position in the low half).
struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ item: UInt64) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
