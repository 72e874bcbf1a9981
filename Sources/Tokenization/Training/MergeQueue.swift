/// Two adjacent symbol ids packed as `left << 32 | right`, so that comparing packed pairs compares
/// (left, right) lexicographically, as `tokenizers` compares its `(u32, u32)` pairs.
typealias SymbolPair = UInt64

extension SymbolPair {
    init(_ left: Int32, _ right: Int32) {
        self = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }
    var left: Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: self >> 32)) }
    var right: Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: self)) }
}

/// A candidate merge: a pair, its count when it was queued, and which words to look in
/// (an index into the trainer's lists of word indices).
struct MergeCandidate {
    var count: Int
    var pair: SymbolPair
    var words: Int32

    /// The most frequent pair first; among equal counts the smallest pair (by ids), like `tokenizers`.
    @inline(__always)
    func comesBefore(_ other: MergeCandidate) -> Bool {
        count != other.count ? count > other.count : pair < other.pair
    }
}

/// A binary max-heap of merge candidates. Counts go stale as merges change them; the trainer
/// re-queues a stale candidate with its current count when it reaches the top (lazy update).
struct MergeQueue {
    private var heap: [MergeCandidate] = []

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    mutating func push(_ candidate: MergeCandidate) {
        heap.append(candidate)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].comesBefore(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> MergeCandidate? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            let right = left + 1
            let best = right < heap.count && heap[right].comesBefore(heap[left]) ? right : left
            guard heap[best].comesBefore(heap[parent]) else { break }
            heap.swapAt(best, parent)
            parent = best
        }
        return top
    }
}
