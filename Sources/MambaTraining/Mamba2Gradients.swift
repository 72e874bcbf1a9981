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
        MambaGradients.lossAndGradients(of: p, ids: ids, targets: targets, options: options)
    }

    /// Logits [L, V] of the training forward (tests compare them with `Mamba2Model`'s inference forward).
    public static func logits(_ p: Mamba2Parameters, ids: [Int], options: TrainingOptions = TrainingOptions()) -> Tensor {
        MambaGradients.logits(of: p, ids: ids, options: options)
    }
}
