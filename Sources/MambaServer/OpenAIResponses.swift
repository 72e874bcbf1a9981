import MambaLM

/// The response bodies of the OpenAI API: whole completions and the chunks of a stream (server-sent events).
public struct Usage: Encodable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }
    /// Prompt tokens whose state came from the prompt cache (`prompt_tokens_details.cached_tokens`).
    public var cachedTokens: Int

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
        case details = "prompt_tokens_details"
    }
    enum DetailKeys: String, CodingKey { case cachedTokens = "cached_tokens" }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(completionTokens, forKey: .completionTokens)
        try c.encode(totalTokens, forKey: .totalTokens)
        var details = c.nestedContainer(keyedBy: DetailKeys.self, forKey: .details)
        try details.encode(cachedTokens, forKey: .cachedTokens)
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
struct CompletionResponse: Encodable, Sendable {
    struct Choice: Encodable, Sendable {
        var index: Int
        var text: String
        var logprobs: CompletionLogprobs?
        var finishReason: String?
        enum CodingKeys: String, CodingKey { case index, text, logprobs, finishReason = "finish_reason" }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(text, forKey: .text)
            try c.encode(logprobs, forKey: .logprobs)                 // null when not asked
            try c.encode(finishReason, forKey: .finishReason)         // null while streaming
        }
    }
    var id: String
    var object = "text_completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage?
    /// The sampling seed (the request's, or the random one drawn for it), as llama.cpp reports it.
    var seed: UInt64
}

/// /v1/chat/completions: `object` "chat.completion" with a message, or "chat.completion.chunk" with a delta.
struct ChatCompletionResponse: Encodable, Sendable {
    struct Choice: Encodable, Sendable {
        var index: Int
        var message: ChatCompletionRequest.Message?
        var delta: Delta?
        var logprobs: ChatLogprobs?
        var finishReason: String?
        enum CodingKeys: String, CodingKey { case index, message, delta, logprobs, finishReason = "finish_reason" }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encodeIfPresent(message, forKey: .message)
            try c.encodeIfPresent(delta, forKey: .delta)
            try c.encode(logprobs, forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }
    struct Delta: Encodable, Sendable {
        var role: String?
        var content: String?
    }
    var id: String
    var object: String
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage?
    var seed: UInt64
}

/// GET /v1/models and /v1/models/{id}.
struct ModelEntry: Encodable {
    let id: String
    let object = "model"
    let created: Int
    let ownedBy = "remamba"
    enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by" }
}

struct ModelList: Encodable {
    let object = "list"
    let data: [ModelEntry]
}
