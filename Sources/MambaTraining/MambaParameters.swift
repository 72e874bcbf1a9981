import Foundation
import MambaLM
import TensorCore

/// Every trainable tensor of a Mamba-1 block (Hugging Face `MambaForCausalLM` names), as a mutable value; the
/// whole model is `MambaParameters` = `BackboneParameters<MambaLayerParameters>`. The same type holds the
/// gradients (`zeros()`), so a gradient has exactly a parameter's shape and name.
/// Legend: D d_model, E d_inner, N d_state, R dt_rank, k conv_kernel.
public struct MambaLayerParameters: Sendable {
    public var norm: Tensor                 // [D]            norm.weight
    public var inProjection: Tensor         // [2E, D]        mixer.in_proj.weight
    public var inProjectionBias: Tensor?    // [2E]           mixer.in_proj.bias (use_bias)
    public var convolution: Tensor          // [E, k]         mixer.conv1d.weight (checkpoint shape [E, 1, k])
    public var convolutionBias: Tensor?     // [E]            mixer.conv1d.bias (use_conv_bias)
    public var xProjection: Tensor          // [R + 2N, E]    mixer.x_proj.weight
    public var dtProjection: Tensor         // [E, R]         mixer.dt_proj.weight
    public var dtProjectionBias: Tensor     // [E]            mixer.dt_proj.bias
    public var aLog: Tensor                 // [E, N]         mixer.A_log  (A = −exp(A_log))
    public var D: Tensor                    // [E]            mixer.D
    public var outProjection: Tensor        // [D, E]         mixer.out_proj.weight
    public var outProjectionBias: Tensor?   // [D]            mixer.out_proj.bias (use_bias)
    /// LoRA branches on the mixer's four Linear modules (BackboneParameters+Adapters).
    public var adapters: [String: LinearAdapter] = [:]

    /// (checkpoint name suffix, tensor) pairs, in checkpoint shapes.
    public func named(_ c: MambaConfiguration) -> [(String, Tensor)] {
        var list: [(String, Tensor)] = [
            ("norm.weight", norm), ("mixer.in_proj.weight", inProjection),
            ("mixer.conv1d.weight", convolution.reshaped([c.innerSize, 1, c.convolutionKernel])),
            ("mixer.x_proj.weight", xProjection), ("mixer.dt_proj.weight", dtProjection),
            ("mixer.dt_proj.bias", dtProjectionBias), ("mixer.A_log", aLog), ("mixer.D", D),
            ("mixer.out_proj.weight", outProjection),
        ]
        if let inProjectionBias { list.append(("mixer.in_proj.bias", inProjectionBias)) }
        if let convolutionBias { list.append(("mixer.conv1d.bias", convolutionBias)) }
        if let outProjectionBias { list.append(("mixer.out_proj.bias", outProjectionBias)) }
        return list
    }

    public init(_ w: WeightMap, prefix p: String, configuration c: MambaConfiguration) {
        norm = w["\(p).norm.weight"]
        inProjection = w["\(p).mixer.in_proj.weight"]
        inProjectionBias = w.tensorIfPresent("\(p).mixer.in_proj.bias")
        convolution = w["\(p).mixer.conv1d.weight"].reshaped([c.innerSize, c.convolutionKernel])
        convolutionBias = w.tensorIfPresent("\(p).mixer.conv1d.bias")
        xProjection = w["\(p).mixer.x_proj.weight"]
        dtProjection = w["\(p).mixer.dt_proj.weight"]
        dtProjectionBias = w["\(p).mixer.dt_proj.bias"]
        aLog = w["\(p).mixer.A_log"]
        D = w["\(p).mixer.D"]
        outProjection = w["\(p).mixer.out_proj.weight"]
        outProjectionBias = w.tensorIfPresent("\(p).mixer.out_proj.bias")
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
    public typealias Training = MambaLayerTraining
    public typealias Model = MambaModel
    public static func deltaOffsetSize(_ c: MambaConfiguration) -> Int { c.innerSize }
    public static var adaptableModules: [String] { [BlockTraining.inProjection, MambaLayerTraining.xProjection, MambaLayerTraining.dtProjection, BlockTraining.outProjection] }
    public static var officialScalesImportanceGradient: Bool { true }
    public static func configuration(_ file: ModelConfiguration) -> MambaConfiguration? { file.mamba }
    public static var otherFamilyMessage: String { "this is not a Mamba (v1) configuration; use Mamba2Parameters for Mamba-2" }
}
