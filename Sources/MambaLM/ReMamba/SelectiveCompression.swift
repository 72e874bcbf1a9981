import Foundation
import TensorCore

/// ReMamba stage 1 (selective compression), from the last layer's normed hidden states h.
public struct SelectiveCompression: Sendable {
    public let query: FeedForward
    public let key: FeedForward
    public let value: FeedForward

    /// What stage 1 decided for one prompt.
    public struct Result: Sendable {
        public let plan: CompressionPlan
        /// cos(Key(h_i), Query(h_L)) for every i of the range, in order (Eq. 3).
        public let importance: [Float]
        /// Absolute positions kept, ascending (Eq. 4).
        public let selected: [Int]
        /// α = ReLU(importance) of the kept positions, in the same order (Eq. 8).
        public let alpha: [Float]
        /// Value(h_selected) [K, D]: the stage-2 inputs that replace the range (Eq. 5).
        public let values: Tensor
    }

    /// - Parameters:
    ///   - rangeHidden: h of the rows `plan.range` [R, D];  - lastHidden: h_L [1, D].
    public func compress(rangeHidden: Tensor, lastHidden: Tensor, plan: CompressionPlan,
                         selection: CompressionSettings.Selection, adaptation: CompressionSettings.Adaptation) -> Result {
        let q = query(lastHidden)                                         // [1, D]
        let k = key(rangeHidden)                                          // [R, D]
        let importance = (0..<k.rows).map { Self.cosine(k.row($0), q.row(0)) }
        let chosen = Self.choose(plan.keep, from: importance, selection: selection)   // offsets in the range, ascending
        var values = value(Tensor.concatenateRows(chosen.map { rangeHidden.rows($0..<($0 + 1)) }))  // [K, D]
        if adaptation == .multiplicative {
            let d = values.columns
            for (row, offset) in chosen.enumerated() { for j in 0..<d { values.data[row * d + j] *= importance[offset] } }
        }
        return Result(plan: plan, importance: importance, selected: chosen.map { plan.start + $0 },
                      alpha: chosen.map { max(importance[$0], 0) }, values: values.reshaped([chosen.count, lastHidden.columns]))
    }

    /// torch's CosineSimilarity(eps = 1e-8): Σ (k / max(‖k‖, ε)) · (q / max(‖q‖, ε)), each norm clamped on its own.
    package static func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) { dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
        return Float(dot / (max(na.squareRoot(), 1e-8) * max(nb.squareRoot(), 1e-8)))
    }

    /// K offsets of `scores`, ascending.
    package static func choose(_ k: Int, from scores: [Float], selection: CompressionSettings.Selection) -> [Int] {
        let n = scores.count
        switch selection {
        case .topK:
            // Highest score first; equal scores (undefined in the official code) go to the earlier position.
            return Array(scores.indices.sorted { (scores[$0], -$0) > (scores[$1], -$1) }.prefix(k)).sorted()
        case .random(let seed):
            var generator = SeededGenerator(seed: seed)
            var pool = Array(0..<n)
            for i in 0..<k { pool.swapAt(i, i + Int(generator.next() % UInt64(n - i))) }
            return Array(pool.prefix(k)).sorted()
        case .fixed:
            // One position every n/K, starting at the first.
            return (0..<k).map { $0 * n / k }
        }
    }
}
