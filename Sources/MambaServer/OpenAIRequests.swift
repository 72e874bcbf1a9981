import MambaLM

/// The request bodies of the OpenAI API this server speaks (POST /v1/completions and /v1/chat/completions),
/// with the sampling extensions llama.cpp and vLLM accept (top_k, min_p, repetition_penalty). Every field is
/// either honoured or refused by name (docs/SERVER.md has the table); nothing is silently ignored.

/// The fields both endpoints share: sampling, stopping, streaming, n, seed.
struct SamplingFields: Sendable {
    var maxTokens: Int?
    var temperature: Float?
    var topP: Float?
    var topK: Int?
    var minP: Float?
    var repetitionPenalty: Float?
    var presencePenalty: Float?
    var frequencyPenalty: Float?
    var logitBias: [Int: Float] = [:]
    /// The request's seed, or a fresh random one when it gave none (or -1, llama.cpp's "random").
    var seed: UInt64
    var stop: [String] = []
    var stream = false
    /// `stream_options.include_usage`: a last chunk with the usage and no choices.
    var includeUsage = false
    var n = 1
    /// Who asked (OpenAI's `user`), written to the request log.
    var user: String?
    var model: String?

    static let maxChoices = 16

    init(_ f: inout RequestFields) throws(APIError) {
        model = try f.string("model")
        user = try f.string("user")
        let maxTokens = try f.integer("max_tokens"), maxCompletionTokens = try f.integer("max_completion_tokens")
        if let maxTokens, let maxCompletionTokens, maxTokens != maxCompletionTokens {
            throw APIError.invalid("max_tokens (\(maxTokens)) and max_completion_tokens (\(maxCompletionTokens)) disagree; give one",
                                   param: "max_completion_tokens")
        }
        self.maxTokens = maxCompletionTokens ?? maxTokens
        temperature = try f.float("temperature")
        topP = try f.float("top_p")
        topK = try f.integer("top_k")
        minP = try f.float("min_p")
        repetitionPenalty = try f.float("repetition_penalty")
        presencePenalty = try f.float("presence_penalty")
        frequencyPenalty = try f.float("frequency_penalty")
        for (key, value) in try f.object("logit_bias") ?? [:] {
            guard let id = Int(key) else { throw APIError.invalid("logit_bias: key \"\(key)\" is not a token id", param: "logit_bias") }
            logitBias[id] = Float(try value.expect(\.number, "a number", field: "logit_bias.\(key)", param: "logit_bias"))
        }
        switch try f.integer("seed") {
        case nil, -1: seed = UInt64.random(in: 0...UInt64(Int.max))
        case let given? where given >= 0: seed = UInt64(given)
        case let given?: throw APIError.invalid("seed must be ≥ 0 (or -1 for a random seed), got \(given)", param: "seed")
        }
        if let value = f.value("stop") {
            if let one = value.string { stop = [one] } else {
                let list = try value.expect(\.array, "a string or an array of strings", field: "stop", param: "stop")
                stop = try list.enumerated().map { (i, s) throws(APIError) in
                    try s.expect(\.string, "a string", field: "stop[\(i)]", param: "stop")
                }
            }
            if stop.contains("") { throw APIError.invalid("stop: an empty stop string", param: "stop") }
        }
        stream = try f.bool("stream") ?? false
        if let options = try f.object("stream_options") {
            guard stream else { throw APIError.invalid("stream_options: only allowed with \"stream\": true", param: "stream_options") }
            for (key, value) in options {
                guard key == "include_usage" else {
                    throw APIError.invalid("stream_options.\(key): unknown option (only include_usage)", param: "stream_options")
                }
                includeUsage = try value.expect(\.bool, "a boolean", field: "stream_options.include_usage", param: "stream_options")
            }
        }
        n = try f.integer("n") ?? 1
        guard (1...Self.maxChoices).contains(n) else {
            throw APIError.invalid("n must be between 1 and \(Self.maxChoices), got \(n)", param: "n")
        }
        try f.refuse("response_format", "only {\"type\": \"text\"} is supported", unless: { $0 == .object(["type": .string("text")]) })
    }

    /// The generation parameters of choice `choice` (its seed is the request's + choice, so the n samples
    /// differ and each reproduces), checked against the server's limits (errors name the field).
    /// `minimumMaxTokens` is 0 for a completion that echoes its prompt (lm-eval's scoring request), else 1.
    func parameters(limits: ServerLimits, vocabularySize: Int, minimumMaxTokens: Int = 1, extraStops: [String] = [],
                    logprobs: Int?, choice: Int) throws(APIError) -> GenerateParameters {
        let maxTokens = maxTokens ?? limits.defaultMaxTokens
        guard (minimumMaxTokens...limits.maxTokens).contains(maxTokens) else {
            let zero = minimumMaxTokens == 0 ? "" : " (0 only with \"echo\": true)"
            throw APIError.invalid("max_tokens must be between \(minimumMaxTokens) and \(limits.maxTokens)\(zero), got \(maxTokens)",
                                   param: "max_tokens")
        }
        if let bad = logitBias.keys.sorted().first(where: { !(0..<vocabularySize).contains($0) }) {
            throw APIError.invalid("logit_bias: token id \(bad) is outside the vocabulary (0..<\(vocabularySize))", param: "logit_bias")
        }
        var parameters = GenerateParameters(maxTokens: maxTokens, temperature: temperature ?? 0, topK: topK ?? 0, topP: topP ?? 1,
                                            repetitionPenalty: repetitionPenalty ?? 1, seed: seed &+ UInt64(choice),
                                            stopStrings: stop + extraStops)
        parameters.presencePenalty = presencePenalty ?? 0
        parameters.frequencyPenalty = frequencyPenalty ?? 0
        parameters.minP = minP ?? 0
        parameters.logitBias = logitBias
        parameters.logprobs = logprobs
        do { try parameters.validate() } catch { throw APIError.invalid(error.description, param: Self.field(of: error.description)) }
        return parameters
    }

    /// The request field a `GenerateParameters` validation message is about.
    static func field(of message: String) -> String? {
        let fields = [("temperature", "temperature"), ("top-k", "top_k"), ("top-p", "top_p"), ("min-p", "min_p"),
                      ("repetition penalty", "repetition_penalty"), ("presence penalty", "presence_penalty"),
                      ("frequency penalty", "frequency_penalty"), ("logit bias", "logit_bias"), ("logprobs", "logprobs")]
        return fields.first { message.hasPrefix($0.0) }?.1
    }
}

extension RequestFields {
    /// Refuses a field unless its value is the one accepted.
    mutating func refuse(_ name: String, _ why: String, unless accepted: (JSONValue) -> Bool) throws(APIError) {
        if let value = value(name), !accepted(value) { throw APIError.invalid("\(name): \(why)", param: name) }
    }
}

/// One prompt of a completion request: text, or token ids as given.
enum PromptInput: Sendable, Equatable {
    case text(String)
    case ids([Int])

    /// `prompt`: a string, an array of strings, an array of token ids, or an array of arrays of token ids.
    static func list(_ value: JSONValue) throws(APIError) -> [PromptInput] {
        let expected = "a string, an array of strings, an array of token ids or an array of arrays of token ids"
        if let text = value.string { return [.text(text)] }
        let items = try value.expect(\.array, expected, field: "prompt", param: "prompt")
        if items.isEmpty { throw APIError.invalid("prompt: the array is empty", param: "prompt") }
        if items.allSatisfy({ $0.string != nil }) { return items.map { .text($0.string!) } }
        if items.allSatisfy({ $0.integer != nil }) { return [.ids(items.map { $0.integer! })] }
        return try items.enumerated().map { (i, item) throws(APIError) in
            let ids = try item.expect(\.array, "an array of token ids (all items alike: \(expected))", field: "prompt[\(i)]", param: "prompt")
            return .ids(try ids.enumerated().map { (j, id) throws(APIError) in
                try id.expect(\.integer, "a token id (an integer)", field: "prompt[\(i)][\(j)]", param: "prompt")
            })
        }
    }
}

/// POST /v1/completions.
struct CompletionRequest: Sendable {
    var prompts: [PromptInput]
    var sampling: SamplingFields
    /// Put the prompt (and its tokens' log-probabilities) before the completion.
    var echo: Bool
    /// Log-probabilities of each token and of the `logprobs` most likely (0…20), or nil.
    var logprobs: Int?

    init(_ f: inout RequestFields) throws(APIError) {
        prompts = try PromptInput.list(f.required("prompt"))
        sampling = try SamplingFields(&f)
        echo = try f.bool("echo") ?? false
        logprobs = try f.integer("logprobs")
        if let logprobs, !(0...20).contains(logprobs) {
            throw APIError.invalid("logprobs must be between 0 and 20, got \(logprobs)", param: "logprobs")
        }
        if let bestOf = try f.integer("best_of"), bestOf != sampling.n {
            throw APIError.invalid("best_of: only best_of = n (every sample returned) is supported, got \(bestOf) with n \(sampling.n)",
                                   param: "best_of")
        }
        try f.refuse("suffix", "insertion (a suffix after the completion) is not supported")
        try f.refuseUnread(endpoint: "/v1/completions")
    }
}

/// POST /v1/chat/completions.
struct ChatCompletionRequest: Sendable {
    struct Message: Codable, Sendable, Equatable {
        var role: String
        var content: String
    }
    var messages: [Message]
    var sampling: SamplingFields
    /// `logprobs: true` with `top_logprobs: k` (0…20), or nil.
    var logprobs: Int?

    init(_ f: inout RequestFields) throws(APIError) {
        let list = try f.required("messages").expect(\.array, "an array of messages", field: "messages", param: "messages")
        messages = try list.enumerated().map { (i, item) throws(APIError) in try Self.message(item, at: i) }
        sampling = try SamplingFields(&f)
        let top = try f.integer("top_logprobs")
        if try f.bool("logprobs") == true {
            logprobs = top ?? 0
            if !(0...20).contains(logprobs!) {
                throw APIError.invalid("top_logprobs must be between 0 and 20, got \(logprobs!)", param: "top_logprobs")
            }
        } else if top != nil {
            throw APIError.invalid("top_logprobs: only allowed with \"logprobs\": true", param: "top_logprobs")
        }
        for name in ["tools", "tool_choice", "functions", "function_call", "parallel_tool_calls"] {
            try f.refuse(name, "tool and function calling is not supported")
        }
        try f.refuseUnread(endpoint: "/v1/chat/completions")
    }

    /// {"role", "content"}: content a string or a list of {"type": "text", "text"} parts (joined).
    static func message(_ value: JSONValue, at i: Int) throws(APIError) -> Message {
        let field = "messages[\(i)]"
        let object = try value.expect(\.object, "an object", field: field, param: "messages")
        if let key = object.keys.filter({ $0 != "role" && $0 != "content" }).sorted().first {
            throw APIError.invalid("\(field).\(key): not supported (a message has a role and a content)", param: "messages")
        }
        guard let role = object["role"] else { throw APIError.invalid("\(field).role: missing", param: "messages") }
        guard let content = object["content"], content != .null else {
            throw APIError.invalid("\(field).content: missing", param: "messages")
        }
        let roleText = try role.expect(\.string, "a string", field: "\(field).role", param: "messages")
        if let text = content.string { return Message(role: roleText, content: text) }
        let parts = try content.expect(\.array, "a string or an array of text parts", field: "\(field).content", param: "messages")
        let texts = try parts.enumerated().map { (j, part) throws(APIError) -> String in
            let partField = "\(field).content[\(j)]"
            let object = try part.expect(\.object, "an object", field: partField, param: "messages")
            let type = try (object["type"] ?? .null).expect(\.string, "a string", field: "\(partField).type", param: "messages")
            guard type == "text" else {
                throw APIError.invalid("\(partField).type: \(type) parts are not supported (text only)", param: "messages")
            }
            return try (object["text"] ?? .null).expect(\.string, "a string", field: "\(partField).text", param: "messages")
        }
        return Message(role: roleText, content: texts.joined())
    }
}
