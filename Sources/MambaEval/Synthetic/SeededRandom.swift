/// SplitMix64: a small deterministic generator, so a suite generated with the same seed is byte-identical
/// on every machine and Swift version (the standard library's generators promise no such thing).
public struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n, without the modulo bias (rejection sampling).
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let x = next()
            if x < limit { return Int(x % bound) }
        }
    }

    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var a = items
        if a.count < 2 { return a }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, below(i + 1)) }
        return a
    }

    /// A random number with exactly `digits` digits (no leading zero).
    public mutating func number(digits: Int) -> String {
        var s = String(1 + below(9))
        for _ in 1..<max(digits, 1) { s += String(below(10)) }
        return s
    }

    /// An RFC-4122-shaped random UUID string (lower-case hex), as the key–value retrieval task uses.
    public mutating func uuid() -> String {
        let hex = Array("0123456789abcdef")
        let groups = [8, 4, 4, 4, 12]
        return groups.map { n in String((0..<n).map { _ in hex[below(16)] }) }.joined(separator: "-")
    }
}
