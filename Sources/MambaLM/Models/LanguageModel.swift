import TensorCore

/// What generation needs from a model: a fresh state, a prefill that consumes a prompt and returns
/// the logits that predict the next token, and a one-token step. Mamba and ReMamba differ only in prefill.
public protocol LanguageModel: Sendable {
    var vocabularySize: Int { get }
    var eosTokenID: Int? { get }
    func makeState() -> ModelState
    /// Consumes `ids` (non-empty) from `state`; returns the logits [V] of the last position.
    func prefill(_ ids: [Int], state: inout ModelState) throws -> Tensor
    /// Consumes one token; returns the logits [V] that predict the next.
    func step(_ id: Int, state: inout ModelState) -> Tensor
    /// Consumes one token for each of B sequences at once (`ids[b]` continues `states[b]`); returns
    /// the logits [B, V]. Row b equals `step(ids[b], state: &states[b])`; a model may read its weights
    /// once for the whole batch (continuous batching in the server).
    func step(_ ids: [Int], states: inout [ModelState]) -> Tensor
    /// The longest context the model was trained for, where it has one (a transformer's
    /// `max_position_embeddings`); nil for recurrent models. Evaluation caps prompts there.
    var positionLimit: Int? { get }
}

extension LanguageModel {
    public var positionLimit: Int? { nil }

    /// The slow twin of a batched step: one sequence after another.
    public func step(_ ids: [Int], states: inout [ModelState]) -> Tensor {
        precondition(ids.count == states.count, "step: \(ids.count) ids for \(states.count) states")
        return Tensor.concatenateRows(ids.indices.map { b in step(ids[b], state: &states[b]).reshaped([1, vocabularySize]) })
    }
}

public enum ModelError: Error, CustomStringConvertible, Equatable {
    case tokenOutOfRange(id: Int, position: Int, vocabularySize: Int)
    case emptyPrompt
    case promptTooLong(length: Int, limit: Int)

    public var description: String {
        switch self {
        case let .tokenOutOfRange(id, position, v): return "token id \(id) at position \(position) is out of range: the vocabulary has \(v) ids (0..<\(v))"
        case .emptyPrompt: return "the prompt is empty: at least one token is needed"
        case let .promptTooLong(length, limit): return "the prompt has \(length) tokens, more than the limit of \(limit) (raise --max-prompt-tokens)"
        }
    }
}
