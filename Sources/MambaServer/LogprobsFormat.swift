import MambaLM
import Tokenization

/// Completions' log-probabilities (OpenAI's legacy shape, which lm-eval reads):
///   {"tokens": [...], "token_logprobs": [...], "top_logprobs": [{token: logprob}, ...], "text_offset": [...]}
/// An echoed prompt's first token has null for its log-probability and its alternatives. Each top entry holds the
/// `k` most likely tokens and the token itself. A token's text is its own decoding; `text_offset` counts the
/// Unicode scalars of the tokens before it (the prompt's too, when echoed).
struct CompletionLogprobs: Encodable, Sendable {
    var tokens: [String] = []
    var tokenLogprobs: [Float?] = []
    var topLogprobs: [[String: Float]?] = []
    var textOffset: [Int] = []

    enum CodingKeys: String, CodingKey {
        case tokens, tokenLogprobs = "token_logprobs", topLogprobs = "top_logprobs", textOffset = "text_offset"
    }

    /// Adds `ids` with their log-probabilities (nil: none, the first prompt token); `offset` is where the
    /// first one starts and moves past the last.
    mutating func append(_ ids: [Int], _ logprobs: [TokenLogprob?], tokenizer: Tokenizer, offset: inout Int) {
        for (id, logprob) in zip(ids, logprobs) {
            let text = tokenizer.decode([id])
            tokens.append(text)
            tokenLogprobs.append(logprob?.logprob)
            topLogprobs.append(logprob.map { entry in
                // Tokens that spell the same (e.g. byte tokens of partial characters, all U+FFFD) share a key: the largest wins.
                var top = [text: entry.logprob]
                for alternative in entry.top {
                    let key = tokenizer.decode([alternative.token])
                    top[key] = max(top[key] ?? -.infinity, alternative.logprob)
                }
                return top
            })
            textOffset.append(offset)
            offset += text.unicodeScalars.count
        }
    }
}

/// Chat log-probabilities: {"content": [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}],
/// "refusal": null}, `top_logprobs` holding the k most likely tokens.
struct ChatLogprobs: Encodable, Sendable {
    struct Entry: Encodable, Sendable {
        var token: String
        var logprob: Float
        var bytes: [UInt8]
        var topLogprobs: [Entry]?
        enum CodingKeys: String, CodingKey { case token, logprob, bytes, topLogprobs = "top_logprobs" }
    }
    var content: [Entry]
    var refusal: String?

    enum CodingKeys: String, CodingKey { case content, refusal }
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(content, forKey: .content)
        try c.encode(refusal, forKey: .refusal)
    }

    init(_ logprobs: [TokenLogprob], tokenizer: Tokenizer) {
        func entry(_ token: Int, _ logprob: Float, top: [Entry]?) -> Entry {
            Entry(token: tokenizer.decode([token]), logprob: logprob, bytes: tokenizer.bytes(of: token), topLogprobs: top)
        }
        content = logprobs.map { lp in entry(lp.token, lp.logprob, top: lp.top.map { entry($0.token, $0.logprob, top: nil) }) }
    }
}
