/// `difflib.SequenceMatcher(None, a, b).ratio()` with its default `autojunk=True`: when b has ≥ 200 elements,
/// elements occurring more than len(b)/100 + 1 times are "popular" and cannot start a match (but can extend one).
/// fuzzywuzzy falls back to it when python-Levenshtein is absent, as in LongBench's environment.
public struct SequenceMatcher {
    let a: [UInt32], b: [UInt32]
    var bToIndices: [UInt32: [Int]] = [:]

    public init(_ a: [UInt32], _ b: [UInt32]) {
        self.a = a
        self.b = b
        for (i, element) in b.enumerated() { bToIndices[element, default: []].append(i) }
        if b.count >= 200 {
            let limit = b.count / 100 + 1
            for (element, indices) in bToIndices where indices.count > limit { bToIndices[element] = nil }
        }
    }

    /// `find_longest_match(alo, ahi, blo, bhi)`: (i, j, size), the earliest of the longest.
    func longestMatch(_ alo: Int, _ ahi: Int, _ blo: Int, _ bhi: Int) -> (Int, Int, Int) {
        var bestI = alo, bestJ = blo, bestSize = 0
        var lengths: [Int: Int] = [:]
        for i in alo..<ahi {
            var next: [Int: Int] = [:]
            for j in bToIndices[a[i]] ?? [] {
                if j < blo { continue }
                if j >= bhi { break }
                let k = (lengths[j - 1] ?? 0) + 1
                next[j] = k
                if k > bestSize { bestI = i - k + 1; bestJ = j - k + 1; bestSize = k }
            }
            lengths = next
        }
        // No junk function, so only the non-junk extensions apply (popular elements are not junk).
        while bestI > alo && bestJ > blo && a[bestI - 1] == b[bestJ - 1] { bestI -= 1; bestJ -= 1; bestSize += 1 }
        while bestI + bestSize < ahi && bestJ + bestSize < bhi && a[bestI + bestSize] == b[bestJ + bestSize] { bestSize += 1 }
        return (bestI, bestJ, bestSize)
    }

    /// Total size of `get_matching_blocks()`.
    public func matchCount() -> Int {
        var queue = [(0, a.count, 0, b.count)]
        var total = 0
        while let (alo, ahi, blo, bhi) = queue.popLast() {
            let (i, j, k) = longestMatch(alo, ahi, blo, bhi)
            guard k > 0 else { continue }
            total += k
            if alo < i && blo < j { queue.append((alo, i, blo, j)) }
            if i + k < ahi && j + k < bhi { queue.append((i + k, ahi, j + k, bhi)) }
        }
        return total
    }

    public func ratio() -> Double {
        let length = a.count + b.count
        return length > 0 ? 2.0 * Double(matchCount()) / Double(length) : 1.0
    }
}

/// fuzzywuzzy's `fuzz.ratio` (0.18, pure-Python path): 100 if equal, 0 if either is empty, else
/// `int(round(100 * SequenceMatcher(None, s1, s2).ratio()))` with Python's round-half-to-even.
public enum FuzzRatio {
    public static func ratio(_ s1: String, _ s2: String) -> Int {
        if PythonText.equal(s1, s2) { return 100 }
        if s1.isEmpty || s2.isEmpty { return 0 }
        let matcher = SequenceMatcher(s1.unicodeScalars.map(\.value), s2.unicodeScalars.map(\.value))
        return Int((100 * matcher.ratio()).rounded(.toNearestOrEven))
    }
}
