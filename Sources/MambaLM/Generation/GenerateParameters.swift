/// How to pick tokens and when to stop. The defaults are greedy decoding of up to 256 tokens.
public struct GenerateParameters: Sendable {
    public var maxTokens: Int = 256
    /// 0 means greedy (argmax).
    public var temperature: Float = 0
    /// Keep only the k most likely tokens (0: all).
    public var topK: Int = 0
    /// Keep the smallest set of tokens whose probabilities add up to at least p (1: all).
    public var topP: Float = 1
    /// > 1 discourages tokens already in the prompt or the output (as transformers' RepetitionPenaltyLogitsProcessor).
    public var repetitionPenalty: Float = 1
    public var seed: UInt64 = 0
    public var stopStrings: [String] = []
    public var stopAtEOS = true
    /// OpenAI's penalties on the tokens generated so far (not the prompt): a token's logit loses
    /// `frequencyPenalty` × its count plus `presencePenalty` once it has appeared. Each in −2…2.
    public var presencePenalty: Float = 0
    public var frequencyPenalty: Float = 0
    /// Keep only tokens whose probability (after temperature) is at least `minP` × the largest (0: all).
    public var minP: Float = 0
    /// Added to a token's logit before anything else (OpenAI's `logit_bias`, each in −100…100).
    public var logitBias: [Int: Float] = [:]
    /// Report, for each generated token, its log-probability and those of the `logprobs` most likely
    /// tokens (nil: none). Log-probabilities are of the model's raw distribution, before any of the above.
    public var logprobs: Int?

    public init(maxTokens: Int = 256, temperature: Float = 0, topK: Int = 0, topP: Float = 1,
                repetitionPenalty: Float = 1, seed: UInt64 = 0, stopStrings: [String] = [], stopAtEOS: Bool = true) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
        self.stopStrings = stopStrings
        self.stopAtEOS = stopAtEOS
    }

    public func validate() throws(GenerateParameterError) {
        if maxTokens < 0 { throw .invalid("max tokens must be ≥ 0, got \(maxTokens)") }
        if !(temperature >= 0 && temperature.isFinite) { throw .invalid("temperature must be ≥ 0, got \(temperature)") }
        if topK < 0 { throw .invalid("top-k must be ≥ 0, got \(topK)") }
        if !(topP > 0 && topP <= 1) { throw .invalid("top-p must be in (0, 1], got \(topP)") }
        if !(repetitionPenalty > 0 && repetitionPenalty.isFinite) { throw .invalid("repetition penalty must be > 0, got \(repetitionPenalty)") }
        if stopStrings.contains("") { throw .invalid("a stop string must not be empty") }
        if !(-2...2).contains(presencePenalty) { throw .invalid("presence penalty must be in −2…2, got \(presencePenalty)") }
        if !(-2...2).contains(frequencyPenalty) { throw .invalid("frequency penalty must be in −2…2, got \(frequencyPenalty)") }
        if !(minP >= 0 && minP <= 1) { throw .invalid("min-p must be in 0…1, got \(minP)") }
        if let bad = logitBias.first(where: { !(-100...100).contains($0.value) }) {
            throw .invalid("logit bias of token \(bad.key) must be in −100…100, got \(bad.value)")
        }
        if let logprobs, !(0...20).contains(logprobs) { throw .invalid("logprobs must be in 0…20, got \(logprobs)") }
    }
}

public enum GenerateParameterError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String { switch self { case .invalid(let m): return m } }
}
