import Foundation
import MambaLM
import TensorCore

/// Every trainable tensor of a Mamba-1 block (Hugging Face `MambaForCausalLM` names), as a mutable value; the
/// whole model is `MambaParameters` = `BackboneParameters<MambaLayerParameters>`. The same type holds the
/// gradients (`zeros()`), so a gradient has exactly a parameter's shape and name.
/// Legend: D d_model, E d_inner, N d_state, R dt_rank, k conv_kernel.
public struct MambaLayerParameters: Sendable {
    // Each property is the `MambaTensors` case of the same name (its checkpoint name and shape are declared there).
    public var norm: Tensor                 // [D]
    public var inProjection: Tensor         // [2E, D]
    public var inProjectionBias: Tensor?    // [2E] (use_bias)
    public var convolution: Tensor          // [E, k] (checkpoint shape [E, 1, k])
    public var convolutionBias: Tensor?     // [E] (use_conv_bias)
    public var xProjection: Tensor          // [R + 2N, E]
    public var dtProjection: Tensor         // [E, R]
    public var dtProjectionBias: Tensor     // [E]
    public var aLog: Tensor                 // [E, N]  (A = −exp(A_log))
    public var D: Tensor                    // [E]
    public var outProjection: Tensor        // [D, E]
    public var outProjectionBias: Tensor?   // [D] (use_bias)
    /// LoRA branches on the mixer's four Linear modules (BackboneParameters+Adapters).
    public var adapters: [String: LinearAdapter] = [:]

    public init(_ w: ModuleWeights<MambaTensors>) {
        norm = w.tensor(.norm)
        inProjection = w.tensor(.inProjection)
        inProjectionBias = w.tensorIfPresent(.inProjectionBias)
        convolution = w.tensor(.convolution)
        convolutionBias = w.tensorIfPresent(.convolutionBias)
        xProjection = w.tensor(.xProjection)
        dtProjection = w.tensor(.dtProjection)
        dtProjectionBias = w.tensor(.dtProjectionBias)
        aLog = w.tensor(.aLog)
        D = w.tensor(.D)
        outProjection = w.tensor(.outProjection)
        outProjectionBias = w.tensorIfPresent(.outProjectionBias)
    }

    /// The tensor `t` declares (nil for an optional bias the configuration has not).
    public subscript(t: MambaTensors) -> Tensor? {
        switch t {
        case .norm: norm
        case .inProjection: inProjection
        case .inProjectionBias: inProjectionBias
        case .convolution: convolution
        case .convolutionBias: convolutionBias
        case .xProjection: xProjection
        case .dtProjection: dtProjection
        case .dtProjectionBias: dtProjectionBias
        case .aLog: aLog
        case .D: D
        case .outProjection: outProjection
        case .outProjectionBias: outProjectionBias
        }
    }

    /// Same shapes, all zeros (a gradient accumulator).
    public func zeros() -> MambaLayerParameters {
        func z(_ t: Tensor) -> Tensor { Tensor(zeros: t.shape) }
        var g = self
        g.norm = z(norm); g.inProjection = z(inProjection); g.inProjectionBias = inProjectionBias.map(z)
        g.convolution = z(convolution); g.convolutionBias = convolutionBias.map(z)
        g.xProjection = z(xProjection); g.dtProjection = z(dtProjection); g.dtProjectionBias = z(dtProjectionBias)
        g.aLog = z(aLog); g.D = z(D); g.outProjection = z(outProjection); g.outProjectionBias = outProjectionBias.map(z)
        return g
    }
}

/// Every trainable tensor of a Mamba-1 model.
public typealias MambaParameters = BackboneParameters<MambaLayerParameters>

extension MambaLayerParameters: TrainableLayer {
    public typealias Inference = MambaLayer
    public typealias Training = MambaLayerTraining
    public static var adaptableModules: [String] {
        [MambaTensors.inProjection, .xProjection, .dtProjection, .outProjection].map(\.module)
    }
    public static var officialScalesImportanceGradient: Bool { true }
}
