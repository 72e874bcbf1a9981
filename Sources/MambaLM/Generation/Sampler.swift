import Foundation
import TensorCore

/// Turns logits into the next token: repetition penalty, then greedy or temperature / top-k / top-p
/// sampling with a seeded generator (the same seed gives the same tokens).
public struct Sampler: Sendable {
    public let parameters: GenerateParameters
    var generator: SeededGenerator

    public init(_ parameters: GenerateParameters) {
        self.parameters = parameters
        generator = SeededGenerator(seed: parameters.seed)
    }

    public mutating func next(_ logits: Tensor, history: [Int]) -> Int {
        var scores = logits.data
        if parameters.repetitionPenalty != 1 {
            // transformers: a seen token's logit is divided by the penalty if positive, multiplied if negative.
            for id in Set(history) where id < scores.count {
                scores[id] = scores[id] > 0 ? scores[id] / parameters.repetitionPenalty : scores[id] * parameters.repetitionPenalty
            }
        }
        if parameters.temperature == 0 { return Self.argmax(scores) }
        var candidates = scores.indices.sorted { scores[$0] > scores[$1] }
        if parameters.topK > 0 { candidates = Array(candidates.prefix(parameters.topK)) }
        let top = scores[candidates[0]]
        var probabilities = candidates.map { Foundation.exp(Double((scores[$0] - top) / parameters.temperature)) }
        let total = probabilities.reduce(0, +)
        probabilities = probabilities.map { $0 / total }
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
