import TensorCore

/// The parts of `LanguageModel` that every `Backbone` computes the same way (Mamba and Mamba2):
/// embeddings → `hiddenStates` → `logits`, in pieces of `prefillChunk` tokens. Legend: L length, V vocab.
extension Backbone {
    public func checkTokens(_ ids: [Int]) throws(ModelError) {
        for (position, id) in ids.enumerated() where id < 0 || id >= vocabularySize {
            throw .tokenOutOfRange(id: id, position: position, vocabularySize: vocabularySize)
        }
    }

    /// Logits [L, V] of every position of `ids`, from a fresh state (what `…ForCausalLM(ids).logits` gives).
    public func forward(_ ids: [Int]) throws(ModelError) -> Tensor {
        try checkTokens(ids)
        var state = makeState()
        return forward(ids, state: &state)
    }

    /// Logits [L, V] of every position, continuing from `state`, computed chunk by chunk.
    public func forward(_ ids: [Int], state: inout ModelState) -> Tensor {
        var parts: [Tensor] = []
        var begin = 0
        while begin < ids.count {
            let end = min(begin + prefillChunk, ids.count)
            parts.append(logits(hiddenStates(embed(Array(ids[begin..<end])), state: &state, adaptation: nil)))
            begin = end
        }
        return Tensor.concatenateRows(parts)
    }

    public func prefill(_ ids: [Int], state: inout ModelState) throws -> Tensor {
        if ids.isEmpty { throw ModelError.emptyPrompt }
        try checkTokens(ids)
        let last = hiddenStatesChunked(embed(ids), state: &state, keep: .last)
        return logits(last).reshaped([vocabularySize])
    }

    public func step(_ id: Int, state: inout ModelState) -> Tensor {
        logits(hiddenStates(embed([id]), state: &state, adaptation: nil)).reshaped([vocabularySize])
    }

    /// B sequences one position each, as one batch: every projection reads its weight once for all B.
    public func step(_ ids: [Int], states: inout [ModelState]) -> Tensor {
        precondition(ids.count == states.count, "step: \(ids.count) ids for \(states.count) states")
        if ids.isEmpty { return Tensor(zeros: [0, vocabularySize]) }
        return logits(hiddenStates(embed(ids), states: &states))
    }
}

/// Rows `ids` of an embedding table [V, D], decoded to Float32: [L] → [L, D].
func embeddingRows(_ table: Weight, _ ids: [Int]) -> Tensor {
    let d = table.columns
    var out = Tensor(zeros: [ids.count, d])
    out.data.withUnsafeMutableBufferPointer { p in
        for (t, id) in ids.enumerated() { table.decodeRows(id..<(id + 1), into: p.baseAddress! + t * d) }
    }
    return out
}
