import Foundation
import MambaLM
import TensorCore

/// Forward and backward of the whole Mamba-2 language model (Hugging Face `Mamba2ForCausalLM`) for the
/// mean next-token cross-entropy, as `model(ids, labels=ids).loss` in transformers; the same API as
/// `MambaGradients` (targets `[Int?]`, nil = no loss at that position; default next-token).
///   embeddings → L × (h ← h + Mixer(RMSNorm(h))) → norm_f → lm_head → cross-entropy
/// `options.scanChunk`, rounded up to a multiple of chunk_size, is the spacing of the SSD state checkpoints
/// (see `Mamba2LayerTraining.checkpointSpacing`). Legend: L length, D d_model, V vocab.
public enum Mamba2Gradients {
    /// The loss and ∂loss/∂(every parameter), in a value shaped like the parameters.
    public static func lossAndGradients(_ p: Mamba2Parameters, ids: [Int], targets: [Int?]? = nil,
                                        options: TrainingOptions = TrainingOptions()) -> (loss: Double, gradients: Mamba2Parameters) {
        let c = p.configuration
        let targets = targets ?? MambaGradients.nextTokenTargets(ids)
        precondition(targets.count == ids.count, "Mamba2Gradients: \(ids.count) ids, \(targets.count) targets")
        // Forward, keeping every block's tape (or only its input).
        var h = MambaGradients.embed(p.embeddings, ids)                                     // [L, D]
        var tapes: [Mamba2LayerTape?] = []
        var inputs: [Tensor] = []
        for layer in p.layers {
            let (out, tape) = Mamba2LayerTraining.forward(h, layer, c, scanChunk: options.scanChunk)
            if options.recomputeLayers { inputs.append(h) } else { tapes.append(tape) }
            h = out
        }
        // norm_f, lm_head and the loss, and their backward (tied: the lm_head's gradient goes into the embeddings').
        var g = p.zeros()
        let epsilon = c.layerNormEpsilon
        let (loss, hiddenGradient) = g.lmHead != nil
            ? MambaGradients.headLossAndBackward(h, finalNorm: p.finalNorm, head: p.head, epsilon: epsilon, targets: targets,
                                                 options: options, finalNormGradient: &g.finalNorm, headGradient: &g.lmHead!)
            : MambaGradients.headLossAndBackward(h, finalNorm: p.finalNorm, head: p.head, epsilon: epsilon, targets: targets,
                                                 options: options, finalNormGradient: &g.finalNorm, headGradient: &g.embeddings)
        var dh = hiddenGradient                                                             // [L, D]
        // The blocks, last to first.
        for i in stride(from: p.layers.count - 1, through: 0, by: -1) {
            let tape = options.recomputeLayers
                ? Mamba2LayerTraining.forward(inputs[i], p.layers[i], c, scanChunk: options.scanChunk).1
                : tapes[i]!
            if !options.recomputeLayers { tapes[i] = nil }                                  // free as we go
            dh = Mamba2LayerTraining.backward(tape, p.layers[i], c, scanChunk: options.scanChunk,
                                              outputGradient: dh, gradients: &g.layers[i])
        }
        MambaGradients.embedBackward(ids, outputGradient: dh, weightGradient: &g.embeddings)
        return (loss, g)
    }

    /// Logits [L, V] of the training forward (tests compare them with `Mamba2Model`'s inference forward).
    public static func logits(_ p: Mamba2Parameters, ids: [Int], options: TrainingOptions = TrainingOptions()) -> Tensor {
        var h = MambaGradients.embed(p.embeddings, ids)
        for layer in p.layers { h = Mamba2LayerTraining.forward(h, layer, p.configuration, scanChunk: options.scanChunk).0 }
        return Linear.forward(RMSNorm.forward(h, weight: p.finalNorm, epsilon: p.configuration.layerNormEpsilon), weight: p.head)
    }
}
