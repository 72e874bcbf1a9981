import MambaLM

/// The request bodies of the OpenAI API this server speaks (POST /v1/completions and /v1/chat/completions),
/// with the sampling extensions llama.cpp and mlx-lm accept (top_k, repetition_penalty). Fields a client
/// sends that do not change the result here (user, logit_bias absent, …) are ignored, as those servers do.
public struct SamplingFields: Decodable, Sendable {
    public var maxTokens: Int?
    /// Default 0 (greedy), as mlx-lm's server: the same request gives the same text.
    public var temperature: Float?
    public var topP: Float?
    public var topK: Int?
    public var repetitionPenalty: Float?
    public var seed: UInt64?
    public var stop: StopStrings?
    public var stream: Bool?
    public var n: Int?

    enum CodingKeys: String, CodingKey {
        case maxTokens = "max_tokens", temperature, topP = "top_p", topK = "top_k"
        case repetitionPenalty = "repetition_penalty", seed, stop, stream, n
    }

    /// The generation parameters, checked against the server's limits (errors name the field).
    func parameters(limits: ServerLimits, extraStops: [String] = []) throws(APIError) -> GenerateParameters {
        let maxTokens = maxTokens ?? limits.defaultMaxTokens
        guard (1...limits.maxTokens).contains(maxTokens) else {
            throw APIError.invalid("max_tokens must be between 1 and \(limits.maxTokens), got \(maxTokens)", param: "max_tokens")
        }
        if let n, n != 1 { throw APIError.invalid("n: only 1 completion per request is supported, got \(n)", param: "n") }
        let parameters = GenerateParameters(maxTokens: maxTokens, temperature: temperature ?? 0, topK: topK ?? 0, topP: topP ?? 1,
                                            repetitionPenalty: repetitionPenalty ?? 1, seed: seed ?? 0,
                                            stopStrings: (stop?.strings ?? []) + extraStops)
        do { try parameters.validate() } catch { throw APIError.invalid(error.description, param: nil) }
        return parameters
    }
}

/// `stop`: a string or an array of strings.
public struct StopStrings: Decodable, Sendable {
    public var strings: [String]
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(String.self) { strings = [one] } else { strings = try c.decode([String].self) }
        if strings.contains(where: \.isEmpty) {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "stop: an empty stop string")
        }
    }
}

/// POST /v1/completions.
public struct CompletionRequest: Decodable, Sendable {
    public var model: String?
    public var prompt: String
    public var sampling: SamplingFields

    enum CodingKeys: String, CodingKey { case model, prompt }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        prompt = try c.decode(String.self, forKey: .prompt)
        sampling = try SamplingFields(from: decoder)
    }
}

/// POST /v1/chat/completions.
public struct ChatCompletionRequest: Decodable, Sendable {
    public struct Message: Codable, Sendable, Equatable {
        public var role: String
        public var content: String
        public init(role: String, content: String) { (self.role, self.content) = (role, content) }
    }
    public var model: String?
    public var messages: [Message]
    public var sampling: SamplingFields

    enum CodingKeys: String, CodingKey { case model, messages }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        messages = try c.decode([Message].self, forKey: .messages)
        sampling = try SamplingFields(from: decoder)
    }
}
