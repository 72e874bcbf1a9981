import Foundation
import MambaLM
import Synchronization
import Tokenization

/// What the server serves: one model and its tokenizer, generating for many requests at once through the
/// continuous-batching `BatchScheduler` (its own thread, never the event loops or Swift's cooperative threads),
/// with a prompt-state cache; each generation streams its text as events.
public final class GenerationQueue: Sendable {
    public let model: any LanguageModel
    public let tokenizer: Tokenizer
    /// The id `/v1/models` lists and responses carry.
    public let modelName: String
    public let limits: ServerLimits
    /// Unix time the server started (`created` of /v1/models).
    public let startedAt = Int(Date().timeIntervalSince1970)
    public let metrics = ServerMetrics()
    let scheduler: BatchScheduler

    public init(model: any LanguageModel, tokenizer: Tokenizer, modelName: String, limits: ServerLimits = ServerLimits()) {
        (self.model, self.tokenizer, self.modelName, self.limits) = (model, tokenizer, modelName, limits)
        scheduler = BatchScheduler(model: model, tokenizer: tokenizer, parallel: limits.parallel, prefillChunk: limits.prefillChunk,
                                   cacheBytes: limits.cacheMegabytes << 20, metrics: metrics)
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

    /// Generates the continuation of `prompt` (token ids) in the next free slot (first come, first served).
    /// Ending the consumption of the stream (a client that went away) cancels it at the next step, or before it
    /// starts. `promptLogprobs` (only when `scoresPrompts`) first reports the prompt tokens' log-probabilities
    /// with `parameters.logprobs` alternatives each.
    public func generate(prompt: [Int], parameters: GenerateParameters, promptLogprobs: Bool = false) -> AsyncThrowingStream<Event, Error> {
        let (stream, continuation) = AsyncThrowingStream<Event, Error>.makeStream()
        let cancelled = CancellationFlag()
        continuation.onTermination = { _ in cancelled.set() }
        scheduler.submit(BatchScheduler.Request(prompt: prompt, parameters: parameters, promptLogprobs: promptLogprobs && scoresPrompts,
                                                continuation: continuation, cancelled: cancelled))
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
    /// Sequences generated at once (continuous batching); more requests wait, first come, first served.
    public var parallel = 4
    /// Prompt tokens prefilled per scheduler step, shared by the joining requests (the model's own chunk, 512,
    /// so a prompt prefilled in steps is computed exactly as in one piece).
    public var prefillChunk = 512
    /// The prompt-state cache's capacity.
    public var cacheMegabytes = 512

    public init() {}
}

/// A flag set from one thread and read from another.
final class CancellationFlag: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
