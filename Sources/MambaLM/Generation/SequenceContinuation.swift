import TensorCore

/// Feeding more tokens to a sequence whose state already covers a prompt: what the generation loop does with
/// each token it samples. For Mamba and Mamba2 this is their prefill (a prompt split anywhere gives the same
/// state); ReMamba compresses only the prompt it is first given, so its continuation is the backbone's plain
/// prefill — "the official generation loop, continued" (a server's prompt cache relies on this).
public protocol SequenceContinuation {
    /// Consumes `ids` (non-empty) after `state`; returns the logits [V] of the last.
    func continueSequence(_ ids: [Int], state: inout ModelState) throws -> Tensor
}

extension ReMambaModel: SequenceContinuation {
    public func continueSequence(_ ids: [Int], state: inout ModelState) throws -> Tensor {
        try base.prefill(ids, state: &state)
    }
}

extension LanguageModel {
    /// `ids` fed after `state` as the generation loop feeds them (see `SequenceContinuation`).
    public func continueSequence(_ ids: [Int], state: inout ModelState) throws -> Tensor {
        if let model = self as? any SequenceContinuation { return try model.continueSequence(ids, state: &state) }
        return try prefill(ids, state: &state)
    }

    /// Whether a prompt may be prefilled in pieces with the same result (Mamba, Mamba2), or must be prefilled
    /// whole (ReMamba: stage 1 reads the whole prompt).
    public var prefillsInPieces: Bool { self is any Backbone }
}
