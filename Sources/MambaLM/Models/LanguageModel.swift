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
