import Foundation
import TensorCore

/// Turns logits into the next token: logit bias, repetition penalty, presence and frequency penalties, then
/// greedy or temperature / min-p / top-k / top-p sampling with a seeded generator (the same seed gives the
/// same tokens). The order is vLLM's: adjustments of the logits first, then temperature, then the filters.
public struct Sampler: Sendable {
    public let parameters: GenerateParameters
    var generator: SeededGenerator
    /// How often each token has been picked by this sampler (the output so far, for OpenAI's penalties).
    var counts: [Int: Int] = [:]

    public init(_ parameters: GenerateParameters) {
        self.parameters = parameters
        generator = SeededGenerator(seed: parameters.seed)
    }

    public mutating func next(_ logits: Tensor, history: [Int]) -> Int {
        let token = pick(adjusted(logits.data, history: history))
        counts[token, default: 0] += 1
        return token
    }

    /// The logits after bias and penalties: what greedy decoding takes the argmax of.
    func adjusted(_ logits: [Float], history: [Int]) -> [Float] {
        var scores = logits
        for (id, bias) in parameters.logitBias where id >= 0 && id < scores.count { scores[id] += bias }
        if parameters.repetitionPenalty != 1 {
            // transformers: a seen token's logit is divided by the penalty if positive, multiplied if negative.
            for id in Set(history) where id < scores.count {
                scores[id] = scores[id] > 0 ? scores[id] / parameters.repetitionPenalty : scores[id] * parameters.repetitionPenalty
            }
        }
        if parameters.presencePenalty != 0 || parameters.frequencyPenalty != 0 {
            // OpenAI: mu[j] -= c[j] * frequency_penalty + float(c[j] > 0) * presence_penalty
            for (id, count) in counts where id < scores.count {
                scores[id] -= Float(count) * parameters.frequencyPenalty + parameters.presencePenalty
            }
        }
        return scores
    }

    mutating func pick(_ scores: [Float]) -> Int {
        if parameters.temperature == 0 { return Self.argmax(scores) }
        var candidates = scores.indices.sorted { scores[$0] > scores[$1] }
        let top = scores[candidates[0]]
        var weights = candidates.map { Foundation.exp(Double((scores[$0] - top) / parameters.temperature)) }
        if parameters.minP > 0 {
            // p_i ≥ min_p · p_max, i.e. weight_i ≥ min_p (the largest weight is 1); candidates are sorted.
            let keep = weights.firstIndex { $0 < Double(parameters.minP) } ?? weights.count
            candidates = Array(candidates.prefix(keep))
            weights = Array(weights.prefix(keep))
        }
        if parameters.topK > 0 {
            candidates = Array(candidates.prefix(parameters.topK))
            weights = Array(weights.prefix(parameters.topK))
        }
        let total = weights.reduce(0, +)
        var probabilities = weights.map { $0 / total }
        if parameters.topP < 1 {
            var cumulative = 0.0
            var keep = 0
            while keep < probabilities.count && cumulative < Double(parameters.topP) { cumulative += probabilities[keep]; keep += 1 }
            candidates = Array(candidates.prefix(keep))
            probabilities = Array(probabilities.prefix(keep))
        }
        let draw = Double(generator.nextUniform()) * probabilities.reduce(0, +)
        var cumulative = 0.0
        for (candidate, p) in zip(candidates, probabilities) {
            cumulative += p
            if draw < cumulative { return candidate }
        }
        return candidates[candidates.count - 1]
    }

    /// The first index of the largest value (ties go to the lowest id, as torch.argmax).
    public static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}
