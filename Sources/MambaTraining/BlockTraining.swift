import Foundation
import MambaLM
import TensorCore

/// What the Mamba-1 and Mamba-2 blocks share in training (`MambaLayerTraining`, `Mamba2LayerTraining`): the
/// frame h ← h + out_proj(mixer(in_proj(RMSNorm(h)))) around each family's mixer (A = −exp(A_log) is MambaLM's `stateMatrix`).
/// Legend: L length, D d_model, I in_proj outputs.
enum BlockTraining {
    /// The LoRA modules of the block's frame (the same names in both families).
    static let inProjection = MambaTensors.inProjection.module, outProjection = MambaTensors.outProjection.module

    /// The backward of the block's entry, projected = in_proj(RMSNorm(input)) (with in_proj's LoRA branch, if any),
    /// and of its residual path:
    /// ∂loss/∂projected [L, I] and dOut = ∂loss/∂(block output) [L, D] → ∂loss/∂input [L, D]; accumulates
    /// the gradients of in_proj (weight and bias) and of the norm.
    static func entryBackward(input: Tensor, normed: Tensor, norm: Tensor, inProjection: Tensor,
                              inProjectionAdapter: LinearAdapter?, epsilon: Float, projectedGradient: Tensor,
                              outputGradient dOut: Tensor, normGradient: inout Tensor, inProjectionGradient: inout Tensor,
                              inProjectionBiasGradient: inout Tensor?, inProjectionAdapterGradient: inout LinearAdapter?) -> Tensor {
        var dNormed = Tensor(zeros: normed.shape)
        AdaptedLinear.backward(normed, weight: inProjection, adapter: inProjectionAdapter, outputGradient: projectedGradient,
                               inputGradient: &dNormed, weightGradient: &inProjectionGradient,
                               biasGradient: &inProjectionBiasGradient, adapterGradient: &inProjectionAdapterGradient)
        var dInput = dOut                                                                     // the residual path
        RMSNorm.backward(input, weight: norm, epsilon: epsilon, outputGradient: dNormed,
                         inputGradient: &dInput, weightGradient: &normGradient)
        return dInput
    }
}
