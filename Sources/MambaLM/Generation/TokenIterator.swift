import TensorCore

/// Tier 1 of generation: prefill the prompt once, then yield sampled token ids one by one, each fed
/// back through the recurrent step. Memory stays constant: only `state` is carried.
public struct TokenIterator: Sequence, IteratorProtocol {
    let model: any LanguageModel
    public private(set) var state: ModelState
    var sampler: Sampler
    var logits: Tensor
    var history: [Int]
    var produced = 0
    /// The last token handed out, fed to the model only when the next one is asked for (so no step is
    /// wasted after the final token; the state then covers everything but that token).
    var unfed: Int?

    /// Runs the prefill (the expensive part) immediately.
    public init(model: any LanguageModel, prompt: [Int], parameters: GenerateParameters, state: ModelState? = nil) throws {
        self.model = model
        var s = state ?? model.makeState()
        logits = try model.prefill(prompt, state: &s)
        self.state = s
        sampler = Sampler(parameters)
        history = prompt
    }

    public mutating func next() -> Int? {
        guard produced < sampler.parameters.maxTokens else { return nil }
        if let token = unfed {
            if sampler.parameters.stopAtEOS, token == model.eosTokenID { return nil }
            logits = model.step(token, state: &state)
        }
        let token = sampler.next(logits, history: history)
        history.append(token)
        produced += 1
        unfed = token
        return token
    }
}
