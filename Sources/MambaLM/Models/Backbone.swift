import TensorCore

/// A language model whose layers ReMamba can drive: embeddings in, the last layer's normed hidden
/// states out, with Δ adaptation at chosen positions. Mamba and Mamba2 both are one.
public protocol Backbone: LanguageModel {
    var hiddenSize: Int { get }
    var numberOfLayers: Int { get }
    /// Size of Θ_l: d_inner for Mamba (per channel), num_heads for Mamba2 (per head).
    var deltaOffsetSize: Int { get }
    /// Prompts are processed in pieces of this many tokens.
    var prefillChunk: Int { get }
    func embed(_ ids: [Int]) -> Tensor
    /// inputs [L, D] from `state` → norm_f(last layer) [L, D]; `state.position` advances by L.
    func hiddenStates(_ inputs: Tensor, state: inout ModelState, adaptation: SelectiveAdaptation?) -> Tensor
    /// One position of each of B sequences: inputs [B, D], row b continuing `states[b]` → norm_f [B, D].
    func hiddenStates(_ inputs: Tensor, states: inout [ModelState]) -> Tensor
    /// hidden [L, D] → logits [L, V].
    func logits(_ hidden: Tensor) -> Tensor
    /// Checks every id is inside the vocabulary.
    func checkTokens(_ ids: [Int]) throws(ModelError)
    /// Number of parameters (tied embeddings counted once).
    var parameterCount: Int { get }
    /// Whether lm_head is the embedding matrix.
    var tiedEmbeddings: Bool { get }
    /// The embedding matrix [V, D], as stored.
    var embeddingTable: Weight { get }
}

/// Which output rows a chunked pass keeps (everything else is dropped as soon as it is computed).
public enum RowSelection: Sendable {
    case all
    case last
    /// These absolute row ranges, in order.
    case ranges([Range<Int>])
}

extension Backbone {
    /// `hiddenStates` in pieces of `prefillChunk` rows, so memory does not grow with the length.
    public func hiddenStatesChunked(_ inputs: Tensor, state: inout ModelState, adaptation: SelectiveAdaptation? = nil,
                                    keep: RowSelection) -> Tensor {
        var kept: [Tensor] = []
        var begin = 0
        while begin < inputs.rows {
            let end = min(begin + prefillChunk, inputs.rows)
            let h = hiddenStates(inputs.rows(begin..<end), state: &state, adaptation: adaptation)
            switch keep {
            case .all: kept.append(h)
            case .last: kept = [h.rows((h.rows - 1)..<h.rows)]
            case .ranges(let ranges):
                for r in ranges {
                    let lo = max(r.lowerBound, begin), hi = min(r.upperBound, end)
                    if lo < hi { kept.append(h.rows((lo - begin)..<(hi - begin))) }
                }
            }
            begin = end
        }
        return Tensor.concatenateRows(kept)
    }
}
