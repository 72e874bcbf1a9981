import Foundation
import MambaLM
import TensorCore

/// Perplexity of a text: the ids cut into consecutive windows of `window` tokens, each run from a fresh
/// state (no window sees another), every token after a window's first predicted from those before it:
/// exp(mean of −log p(token | window so far)). Non-overlapping windows, as `lm-eval`'s rolling
/// log-likelihood with no context carried over.
public enum Perplexity {
    public struct Result: Sendable, Codable {
        public let predictedTokens: Int
        public let meanNegativeLogLikelihood: Double
        public var perplexity: Double { Foundation.exp(meanNegativeLogLikelihood) }
    }

    public static func evaluate(model: any LanguageModel, ids: [Int], window: Int) throws -> Result {
        precondition(window >= 2, "Perplexity: a window needs at least 2 tokens")
        var total = 0.0, count = 0
        var begin = 0
        while begin + 1 < ids.count {
            let piece = Array(ids[begin..<min(begin + window, ids.count)])
            var state = model.makeState()
            var logits = try model.prefill([piece[0]], state: &state)
            for k in 1..<piece.count {
                total -= LogLikelihood.logSoftmax(logits.data, at: piece[k]).0
                count += 1
                if k + 1 < piece.count { logits = model.step(piece[k], state: &state) }
            }
            begin += window
        }
        return Result(predictedTokens: count, meanNegativeLogLikelihood: count > 0 ? total / Double(count) : 0)
    }
}
