import TensorCore

/// Where the trainer is in the data: epoch e visits the examples in a seeded permutation of its own, so a
/// position (epoch, index) is all a checkpoint needs to continue with the very same examples.
public struct DataPosition: Codable, Sendable, Equatable {
    public var epoch = 0
    public var index = 0
    public init(epoch: Int = 0, index: Int = 0) { (self.epoch, self.index) = (epoch, index) }
}

public struct DataOrder: Sendable {
    public let count: Int
    public let seed: UInt64
    private var epoch = -1
    private var permutation: [Int] = []

    public init(count: Int, seed: UInt64) { (self.count, self.seed) = (count, seed) }

    /// The example at `position`, then advances it (to the next epoch after the last example).
    public mutating func next(_ position: inout DataPosition) -> Int {
        if position.epoch != epoch {
            epoch = position.epoch
            var generator = SeededGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
            permutation = Array(0..<count).shuffled(using: &generator)
        }
        let example = permutation[position.index]
        position.index += 1
        if position.index == count { position = DataPosition(epoch: position.epoch + 1, index: 0) }
        return example
    }
}
