import Foundation
import TensorCore

/// A token with its log-probability under the model's raw distribution (log-softmax of the logits, before
/// penalties, bias, temperature or any filter, as vLLM reports by default), and the most likely alternatives.
public struct TokenLogprob: Sendable, Equatable {
    public struct Alternative: Sendable, Equatable {
        public var token: Int
        public var logprob: Float
    }
    public var token: Int
    public var logprob: Float
    /// The `top` most likely tokens, most likely first (ties: lower id first).
    public var top: [Alternative]

    /// log softmax(logits)[token] and the `top` largest entries, computed in Double.
    public init(logits: [Float], token: Int, top: Int) {
        var maximum = -Double.infinity
        for v in logits where Double(v) > maximum { maximum = Double(v) }
        var sum = 0.0
        for v in logits { sum += Foundation.exp(Double(v) - maximum) }
        let logNormalizer = maximum + Foundation.log(sum)
        self.token = token
        logprob = Float(Double(logits[token]) - logNormalizer)
        self.top = Self.largest(logits, count: top).map { Alternative(token: $0, logprob: Float(Double(logits[$0]) - logNormalizer)) }
    }

    /// Indices of the `count` largest values, largest first, lower index first among equals (one pass).
    static func largest(_ values: [Float], count: Int) -> [Int] {
        guard count > 0 else { return [] }
        var best: [Int] = []
        best.reserveCapacity(count + 1)
        for i in values.indices {
            if best.count == count, values[i] <= values[best[count - 1]] { continue }
            var at = best.count
            while at > 0, values[best[at - 1]] < values[i] { at -= 1 }
            best.insert(i, at: at)
            if best.count > count { best.removeLast() }
        }
        return best
    }

    /// The log-probabilities of every prompt token after the first, from the logits [L, V] of its L positions:
    /// entry i (i ≥ 1) is the log-probability of ids[i] given ids[..<i]; entry 0 is nil (nothing predicts it).
    public static func ofPrompt(_ ids: [Int], logits: Tensor, top: Int) -> [TokenLogprob?] {
        precondition(logits.rows == ids.count, "ofPrompt: \(logits.rows) rows of logits for \(ids.count) ids")
        return [nil] + (1..<max(ids.count, 1)).map { i in TokenLogprob(logits: Array(logits.row(i - 1)), token: ids[i], top: top) }
    }
}
