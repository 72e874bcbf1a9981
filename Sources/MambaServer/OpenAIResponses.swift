import MambaLM

/// The response bodies of the OpenAI API: whole completions and the chunks of a stream (server-sent events).
public struct Usage: Codable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
    }
    init(_ result: GenerationResult) {
        (promptTokens, completionTokens) = (result.promptTokenCount, result.tokens.count)
        totalTokens = promptTokens + completionTokens
    }
}

/// "stop" (end of sequence or a stop string), "length" (max_tokens), or null (a chunk before the last).
func finishReason(_ reason: StopReason) -> String {
    switch reason {
    case .maxTokens: return "length"
    case .endOfSequence, .stopString, .cancelled: return "stop"
    }
}

/// /v1/completions: `object` "text_completion", for the whole answer and for each streamed chunk.
public struct CompletionResponse: Codable, Sendable {
    public struct Choice: Codable, Sendable {
        public var index = 0
        public var text: String
        public var finishReason: String?
        enum CodingKeys: String, CodingKey { case index, text, finishReason = "finish_reason" }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(text, forKey: .text)
            try c.encode(finishReason, forKey: .finishReason)         // null while streaming
        }
    }
    public var id: String
    public var object = "text_completion"
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?
}

/// /v1/chat/completions: `object` "chat.completion" with a message, or "chat.completion.chunk" with a delta.
public struct ChatCompletionResponse: Codable, Sendable {
    public struct Choice: Codable, Sendable {
        public var index = 0
        public var message: ChatCompletionRequest.Message?
        public var delta: Delta?
        public var finishReason: String?
        enum CodingKeys: String, CodingKey { case index, message, delta, finishReason = "finish_reason" }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encodeIfPresent(message, forKey: .message)
            try c.encodeIfPresent(delta, forKey: .delta)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }
    public struct Delta: Codable, Sendable {
        public var role: String?
        public var content: String?
    }
    public var id: String
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: Usage?
}

/// GET /v1/models.
struct ModelList: Encodable {
    struct Entry: Encodable {
        let id: String
        let object = "model"
        let created: Int
        let ownedBy = "remamba"
        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by" }
    }
    let object = "list"
    let data: [Entry]
}
