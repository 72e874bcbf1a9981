import TensorCore

/// The keys and values one attention layer has seen so far: the state of a transformer layer, which,
/// unlike Mamba's, grows with the context. Legend: S positions cached, G key/value heads, P head_dim.
/// Each head's keys and values are one contiguous [S, P] array, so attention reads them with a single
/// sgemm. Room is reserved in blocks of `blockSize` positions, growing by at least a quarter each
/// time, so appending one token at a time copies the cache O(log S) times and never holds more than
/// a quarter (or one block) of unused room.
public struct KeyValueCache: Sendable, Equatable {
    public static let blockSize = 256
    /// Per key/value head: [S, P].
    public private(set) var keys: [[Float]]
    public private(set) var values: [[Float]]
    public let headDimension: Int

    public init(heads: Int, headDimension: Int) {
        keys = Array(repeating: [], count: heads)
        values = Array(repeating: [], count: heads)
        self.headDimension = headDimension
    }

    /// S, the number of positions cached.
    public var count: Int { keys[0].count / headDimension }

    /// Bytes held by the cached keys and values (not counting reserved room).
    public var bytes: Int { 2 * keys.count * keys[0].count * MemoryLayout<Float>.size }

    /// Appends the keys and values of T new positions, both [T, G·P] (heads side by side, as k_proj writes them).
    public mutating func append(keys newKeys: Tensor, values newValues: Tensor) {
        let (t, g, p) = (newKeys.rows, keys.count, headDimension)
        precondition(newKeys.shape == [t, g * p] && newValues.shape == newKeys.shape,
                     "KeyValueCache: appending \(newKeys.shape) and \(newValues.shape) to \(g) heads of \(p)")
        let needed = (count + t) * p
        if needed > keys[0].capacity {
            let blocks = (count + t + Self.blockSize - 1) / Self.blockSize
            let room = Swift.max(blocks * Self.blockSize, (count * 5 / 4 + Self.blockSize - 1) / Self.blockSize * Self.blockSize) * p
            for h in 0..<g { keys[h].reserveCapacity(room); values[h].reserveCapacity(room) }
        }
        for h in 0..<g {
            for row in 0..<t {
                let begin = row * g * p + h * p
                keys[h].append(contentsOf: newKeys.data[begin..<(begin + p)])
                values[h].append(contentsOf: newValues.data[begin..<(begin + p)])
            }
        }
    }
}
