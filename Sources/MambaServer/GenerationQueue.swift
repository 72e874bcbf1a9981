import Dispatch
import Foundation
import MambaLM
import TensorCore
import Tokenization

/// What the server serves: one model and its tokenizer, generating for one request at a time (the CPU is the
/// limit; requests queue, as llama.cpp's server with one slot). Generation runs on its own serial dispatch
/// queue, never on the event loops or Swift's cooperative threads, and streams its text as events.
public final class GenerationQueue: Sendable {
    public let model: any LanguageModel
    public let tokenizer: Tokenizer
    /// The id `/v1/models` lists and responses carry.
    public let modelName: String
    public let limits: ServerLimits
    /// Unix time the server started (`created` of /v1/models).
    public let startedAt = Int(Date().timeIntervalSince1970)
    public let metrics = ServerMetrics()
    private let queue = DispatchQueue(label: "remamba.generation")

    public init(model: any LanguageModel, tokenizer: Tokenizer, modelName: String, limits: ServerLimits = ServerLimits()) {
        (self.model, self.tokenizer, self.modelName, self.limits) = (model, tokenizer, modelName, limits)
    }

    /// One generation's events: the prompt's log-probabilities (when asked), text pieces as they are complete,
    /// then the result.
    public enum Event: Sendable {
        case prompt([TokenLogprob?])
        case piece(SequenceDecoder.Piece)
        case finished(GenerationResult)
    }

    /// Whether the log-probabilities of a prompt's own tokens can be computed: a plain model's logits at every
    /// position. A ReMamba model compresses its prompt, so its prompt positions have no logits of their own.
    public var scoresPrompts: Bool { model is any Backbone }

    /// Generates the continuation of `prompt` (token ids) once the requests before it are done. Ending the
    /// consumption of the stream (a client that went away) stops the generation at the next token.
    /// `promptLogprobs` (only when `scoresPrompts`) first reports the prompt tokens' log-probabilities with
    /// `parameters.logprobs` alternatives each.
    public func generate(prompt: [Int], parameters: GenerateParameters, promptLogprobs: Bool = false) -> AsyncThrowingStream<Event, Error> {
        let (stream, continuation) = AsyncThrowingStream<Event, Error>.makeStream()
        let cancelled = CancellationFlag()
        continuation.onTermination = { _ in cancelled.set() }
        let (model, tokenizer, metrics) = (model, tokenizer, metrics)
        metrics.queueDepth.increment()
        queue.async {
            metrics.queueDepth.decrement()
            do {
                var prefilled: (state: ModelState, logits: Tensor)?
                if promptLogprobs, let plain = model as? any Backbone {
                    try plain.checkTokens(prompt)
                    var state = plain.makeState()
                    let rows = plain.forward(prompt, state: &state)                      // [L, V]
                    continuation.yield(.prompt(TokenLogprob.ofPrompt(prompt, logits: rows, top: parameters.logprobs ?? 0)))
                    prefilled = (state, Tensor(shape: [rows.columns], data: Array(rows.row(rows.rows - 1))))
                }
                let result = try TextGeneration.stream(model: model, tokenizer: tokenizer, prompt: prompt, parameters: parameters,
                                                       prefilled: prefilled, isCancelled: { cancelled.isSet }) {
                    continuation.yield(.piece($0))
                }
                continuation.yield(.finished(result))
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }
}

/// The limits a server enforces on requests.
public struct ServerLimits: Sendable {
    /// Prompts longer than this (in tokens) are refused.
    public var maxPromptTokens = 32_768
    /// `max_tokens` above this is refused; a request without one gets `defaultMaxTokens`.
    public var maxTokens = 4_096
    public var defaultMaxTokens = 128
    /// Request bodies larger than this are refused (413).
    public var maxBodyBytes = 16 << 20

    public init() {}
}

/// A flag set from one thread and read from another.
final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
