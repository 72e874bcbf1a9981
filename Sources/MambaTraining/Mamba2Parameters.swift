import Foundation
import MambaLM
import TensorCore

/// Every trainable tensor of a Mamba-2 block (Hugging Face `Mamba2ForCausalLM` names), as a mutable value; the
/// whole model is `Mamba2Parameters` = `BackboneParameters<Mamba2LayerParameters>`. The same type holds the
/// gradients (`zeros()`).
/// Legend: D d_model, E d_inner = H·P, H heads, G groups, N d_state, k conv_kernel,
/// X = E + 2·G·N (conv channels), I = E + X + H (in_proj outputs: z, xBC, dt).
public struct Mamba2LayerParameters: Sendable {
    // Each property is the `Mamba2Tensors` case of the same name (its checkpoint name and shape are declared there).
    public var norm: Tensor                 // [D]
    public var inProjection: Tensor         // [I, D]
    public var inProjectionBias: Tensor?    // [I] (use_bias)
    public var convolution: Tensor          // [X, k] (checkpoint shape [X, 1, k])
    public var convolutionBias: Tensor?     // [X] (use_conv_bias)
    public var dtBias: Tensor               // [H]
    public var aLog: Tensor                 // [H]  (A = −exp(A_log), a scalar per head)
    public var D: Tensor                    // [H]
    public var gatedNorm: Tensor            // [E]
    public var outProjection: Tensor        // [D, E]
    public var outProjectionBias: Tensor?   // [D] (use_bias)
    /// LoRA branches on mixer.in_proj and mixer.out_proj (BackboneParameters+Adapters).
    public var adapters: [String: LinearAdapter] = [:]

    public init(_ w: ModuleWeights<Mamba2Tensors>) {
        norm = w.tensor(.norm)
        inProjection = w.tensor(.inProjection)
        inProjectionBias = w.tensorIfPresent(.inProjectionBias)
        convolution = w.tensor(.convolution)
        convolutionBias = w.tensorIfPresent(.convolutionBias)
        dtBias = w.tensor(.dtBias)
        aLog = w.tensor(.aLog)
        D = w.tensor(.D)
        gatedNorm = w.tensor(.gatedNorm)
        outProjection = w.tensor(.outProjection)
        outProjectionBias = w.tensorIfPresent(.outProjectionBias)
    }

    /// The tensor `t` declares (nil for an optional bias the configuration has not).
    public subscript(t: Mamba2Tensors) -> Tensor? {
        switch t {
        case .norm: norm
        case .inProjection: inProjection
        case .inProjectionBias: inProjectionBias
        case .convolution: convolution
        case .convolutionBias: convolutionBias
        case .dtBias: dtBias
        case .aLog: aLog
        case .D: D
        case .gatedNorm: gatedNorm
        case .outProjection: outProjection
        case .outProjectionBias: outProjectionBias
        }
    }

    /// Same shapes, all zeros (a gradient accumulator).
    public func zeros() -> Mamba2LayerParameters {
        func z(_ t: Tensor) -> Tensor { Tensor(zeros: t.shape) }
        var g = self
        g.norm = z(norm); g.inProjection = z(inProjection); g.inProjectionBias = inProjectionBias.map(z)
        g.convolution = z(convolution); g.convolutionBias = convolutionBias.map(z)
        g.dtBias = z(dtBias); g.aLog = z(aLog); g.D = z(D); g.gatedNorm = z(gatedNorm)
        g.outProjection = z(outProjection); g.outProjectionBias = outProjectionBias.map(z)
        return g
    }
}

/// Every trainable tensor of a Mamba-2 model.
public typealias Mamba2Parameters = BackboneParameters<Mamba2LayerParameters>

extension Mamba2LayerParameters: TrainableLayer {
    public typealias Inference = Mamba2Layer
    public typealias Training = Mamba2LayerTraining
    public static var adaptableModules: [String] { [Mamba2Tensors.inProjection, .outProjection].map(\.module) }
    /// Off: lblankl/ReMamba `ReMamba2/src/model/ressd_combined.py`, `MambaSplitConv1dScanCombinedFn.backward`,
    /// "In ReMamba2 we do not use rescale gradient" (see `ReMambaGradients` for what that code computes).
    public static var officialScalesImportanceGradient: Bool { false }
}
