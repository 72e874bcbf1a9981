import Foundation
import MambaLM
import TensorCore

/// Forward and backward of the whole Mamba-1 language model (Hugging Face `MambaForCausalLM`) for the
/// mean next-token cross-entropy, as `model(ids, labels=ids).loss` in transformers: position t predicts
/// ids[t + 1], the last position has no target. Every parameter gets a gradient.
///   embeddings → L × (h ← h + Mixer(RMSNorm(h))) → norm_f → lm_head → cross-entropy
/// Legend: L length, D d_model, V vocab.
public struct TrainingOptions: Sendable {
    /// Scan states are kept every `scanChunk` steps and recomputed in between (see SelectiveScan+Backward).
    public var scanChunk = 64
    /// Rows of logits alive at once in the fused lm_head + loss.
    public var headRowsPerChunk = 256
    /// Keep only each block's input in the forward and recompute its tape in the backward (one more
    /// forward of compute for O(layers·L·D) activation memory instead of O(layers·L·E·5)).
    public var recomputeLayers = false
    /// How LoRA branches among the parameters apply (`LoRAModel`'s unmerged model).
    public var adapters = AdapterOptions()

    public init(scanChunk: Int = 64, headRowsPerChunk: Int = 256, recomputeLayers: Bool = false,
                adapters: AdapterOptions = AdapterOptions()) {
        (self.scanChunk, self.headRowsPerChunk, self.recomputeLayers) = (scanChunk, headRowsPerChunk, recomputeLayers)
        self.adapters = adapters
    }
}

public enum MambaGradients {
    /// Next-token targets of `ids` (labels = input_ids): ids[t + 1], nil at the last position.
    public static func nextTokenTargets(_ ids: [Int]) -> [Int?] {
        ids.indices.map { $0 + 1 < ids.count ? ids[$0 + 1] : nil }
    }

    /// The loss and ∂loss/∂(every parameter), in a value shaped like the parameters.
    public static func lossAndGradients(_ p: MambaParameters, ids: [Int], targets: [Int?]? = nil,
                                        options: TrainingOptions = TrainingOptions()) -> (loss: Double, gradients: MambaParameters) {
        lossAndGradients(of: p, ids: ids, targets: targets, options: options)
    }

    /// The same for any family (`Mamba2Gradients` is this for Mamba-2).
    static func lossAndGradients<Base: TrainableBackbone>(of p: Base, ids: [Int], targets: [Int?]?,
                                                          options: TrainingOptions) -> (loss: Double, gradients: Base) {
        let targets = targets ?? nextTokenTargets(ids)
        precondition(targets.count == ids.count, "MambaGradients: \(ids.count) ids, \(targets.count) targets")
        var (h, tape) = LayerStackTraining.forward(embed(p.embeddings, ids), p, options: options)    // [L, D]
        var g = p.zeros()
        let (loss, dh) = headLossAndBackward(h, p, targets: targets, options: options, gradients: &g)
        h = Tensor(zeros: [0])                                                                       // free it early
        var none: StackAdaptationGradient? = nil
        let dEmbedded = LayerStackTraining.backward(&tape, p, options: options, outputGradient: dh, gradients: &g,
                                                    adaptationGradient: &none)
        embedBackward(ids, outputGradient: dEmbedded, weightGradient: &g.embeddings)
        return (loss, g)
    }

    /// h [L, D] (the last block's output) → norm_f → lm_head → mean cross-entropy over the rows with a
    /// target: (loss, ∂loss/∂h [L, D]); accumulates the gradients of norm_f and of the lm_head (tied: into
    /// the embeddings', as PyTorch does for a shared parameter).
    static func headLossAndBackward<Base: TrainableBackbone>(_ h: Tensor, _ p: Base, targets: [Int?], options: TrainingOptions,
                                                             gradients g: inout Base) -> (loss: Double, hiddenGradient: Tensor) {
        // The accumulators move out of `g` and back (two inout accesses to one generic value would overlap);
        // emptied in `g` meanwhile, so they stay uniquely referenced and are not copied.
        let tied = g.lmHead == nil
        var finalNorm = g.finalNorm, head = g.lmHead ?? g.embeddings, headAdapter = g.headAdapter
        g.finalNorm = Tensor(zeros: [0])
        if tied { g.embeddings = Tensor(zeros: [0]) } else { g.lmHead = Tensor(zeros: [0]) }
        g.headAdapter = nil
        let result = headLossAndBackward(h, finalNorm: p.finalNorm, head: p.head, headAdapter: p.headAdapter,
                                         epsilon: p.layerNormEpsilon, targets: targets, options: options,
                                         finalNormGradient: &finalNorm, headGradient: &head, headAdapterGradient: &headAdapter)
        g.finalNorm = finalNorm
        if tied { g.embeddings = head } else { g.lmHead = head }
        g.headAdapter = headAdapter
        return result
    }

    /// The same for any family: norm_f [D], the lm_head matrix [V, D] (with its LoRA branch, if any) and their
    /// gradient accumulators.
    static func headLossAndBackward(_ h: Tensor, finalNorm: Tensor, head: Tensor, headAdapter: LinearAdapter?, epsilon: Float,
                                    targets: [Int?], options: TrainingOptions, finalNormGradient: inout Tensor,
                                    headGradient: inout Tensor, headAdapterGradient: inout LinearAdapter?)
        -> (loss: Double, hiddenGradient: Tensor) {
        let final = RMSNorm.forward(h, weight: finalNorm, epsilon: epsilon)                   // [L, D]
        var dFinal = Tensor(zeros: final.shape)
        let loss = LanguageModelHead.lossAndBackward(hidden: final, weight: head, adapter: headAdapter, targets: targets,
                                                     rowsPerChunk: options.headRowsPerChunk, hiddenGradient: &dFinal,
                                                     weightGradient: &headGradient, adapterGradient: &headAdapterGradient)
        var dh = Tensor(zeros: h.shape)
        RMSNorm.backward(h, weight: finalNorm, epsilon: epsilon, outputGradient: dFinal,
                         inputGradient: &dh, weightGradient: &finalNormGradient)
        return (loss, dh)
    }

    /// Logits [L, V] of the training forward (tests compare them with `MambaModel`'s inference forward).
    public static func logits(_ p: MambaParameters, ids: [Int], options: TrainingOptions = TrainingOptions()) -> Tensor {
        logits(of: p, ids: ids, options: options)
    }

    /// The same for any family (`Mamba2Gradients.logits` is this for Mamba-2).
    static func logits<Layer>(of p: BackboneParameters<Layer>, ids: [Int], options: TrainingOptions) -> Tensor {
        var h = embed(p.embeddings, ids)
        for layer in p.layers { h = Layer.Training.forward(h, layer, p.configuration, scanChunk: options.scanChunk, adaptation: nil).0 }
        return AdaptedLinear.forward(RMSNorm.forward(h, weight: p.finalNorm, epsilon: p.configuration.layerNormEpsilon),
                                     weight: p.head, adapter: p.headAdapter)
    }

    /// Rows of the embedding table: [L] → [L, D].
    static func embed(_ table: Tensor, _ ids: [Int]) -> Tensor {
        let d = table.columns
        var out = [Float](repeating: 0, count: ids.count * d)
        for (t, id) in ids.enumerated() {
            precondition(id >= 0 && id < table.rows, "token id \(id) outside the vocabulary of \(table.rows)")
            for j in 0..<d { out[t * d + j] = table.data[id * d + j] }
        }
        return Tensor(shape: [ids.count, d], data: out)
    }

    /// The embedding's backward, a scatter-add: dTable[ids[t]] += dy[t].
    static func embedBackward(_ ids: [Int], outputGradient dy: Tensor, weightGradient dTable: inout Tensor) {
        let d = dTable.columns
        for (t, id) in ids.enumerated() { for j in 0..<d { dTable.data[id * d + j] += dy.data[t * d + j] } }
    }
}
