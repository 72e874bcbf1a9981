/// The distinct words of the corpus as symbol ids, with their counts, during BPE training.
/// A merge rewrites every occurrence of a pair in a word and reports how the counts of the
/// neighbouring pairs change, so the trainer updates its pair counts without recounting.
struct TrainingWords {
    private(set) var symbols: [[Int32]]
    let counts: [Int]

    init(symbols: [[Int32]], counts: [Int]) {
        self.symbols = symbols
        self.counts = counts
    }

    /// Replaces each `left right` in word `index`, scanning left to right (in "a a a" only the first
    /// two fuse), by `merged`, and reports each pair that lost (−1) or gained (+1) an occurrence, in
    /// the order `tokenizers`' `Word::merge` reports them. The merged pair itself is not reported.
    mutating func merge(_ pair: SymbolPair, into merged: Int32, inWord index: Int,
                        _ change: (SymbolPair, Int) -> Void) {
        let left = pair.left, right = pair.right
        var newLength = 0
        symbols[index].withUnsafeMutableBufferPointer { word in
            let length = word.count
            var read = 0
            var write = 0
            while read < length {
                if read + 1 < length && word[read] == left && word[read + 1] == right {
                    if write > 0 {
                        // The symbol before is already rewritten (it may be an earlier `merged`).
                        change(SymbolPair(word[write - 1], left), -1)
                        change(SymbolPair(word[write - 1], merged), +1)
                    }
                    word[write] = merged
                    write += 1
                    read += 2
                    if read < length {
                        change(SymbolPair(right, word[read]), -1)
                        change(SymbolPair(merged, word[read]), +1)
                    }
                } else {
                    word[write] = word[read]
                    write += 1
                    read += 1
                }
            }
            newLength = write
        }
        if newLength < symbols[index].count { symbols[index].removeSubrange(newLength...) }
    }
}
