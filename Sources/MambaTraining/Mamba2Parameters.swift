import Foundation
import MambaLM
import TensorCore

/// Every trainable tensor of a Mamba-2 block (Hugging Face `Mamba2ForCausalLM` names), as a mutable value; the
/// whole model is `Mamba2Parameters` = `BackboneParameters<Mamba2LayerParameters>`. The same type holds the
/// gradients (`zeros()`).
/// Legend: D d_model, E d_inner = H·P, H heads, G groups, N d_state, k conv_kernel,
/// X = E + 2·G·N (conv channels), I = E + X + H (in_proj outputs: z, xBC, dt).
public struct Mamba2LayerParameters: Sendable {
    public var norm: Tensor                 // [D]      norm.weight
    public var inProjection: Tensor         // [I, D]   mixer.in_proj.weight
    public var inProjectionBias: Tensor?    // [I]      mixer.in_proj.bias (use_bias)
    public var convolution: Tensor          // [X, k]   mixer.conv1d.weight (checkpoint shape [X, 1, k])
    public var convolutionBias: Tensor?     // [X]      mixer.conv1d.bias (use_conv_bias)
    public var dtBias: Tensor               // [H]      mixer.dt_bias
    public var aLog: Tensor                 // [H]      mixer.A_log  (A = −exp(A_log), a scalar per head)
    public var D: Tensor                    // [H]      mixer.D
    public var gatedNorm: Tensor            // [E]      mixer.norm.weight
    public var outProjection: Tensor        // [D, E]   mixer.out_proj.weight
    public var outProjectionBias: Tensor?   // [D]      mixer.out_proj.bias (use_bias)
    /// LoRA branches on mixer.in_proj and mixer.out_proj (BackboneParameters+Adapters).
    public var adapters: [String: LinearAdapter] = [:]

    /// (checkpoint name suffix, tensor) pairs, in checkpoint shapes.
    public func named(_ c: Mamba2Configuration) -> [(String, Tensor)] {
        var list: [(String, Tensor)] = [
            ("norm.weight", norm), ("mixer.in_proj.weight", inProjection),
            ("mixer.conv1d.weight", convolution.reshaped([c.convolutionDimension, 1, c.convolutionKernel])),
            ("mixer.dt_bias", dtBias), ("mixer.A_log", aLog), ("mixer.D", D), ("mixer.norm.weight", gatedNorm),
            ("mixer.out_proj.weight", outProjection),
        ]
        if let inProjectionBias { list.append(("mixer.in_proj.bias", inProjectionBias)) }
        if let convolutionBias { list.append(("mixer.conv1d.bias", convolutionBias)) }
        if let outProjectionBias { list.append(("mixer.out_proj.bias", outProjectionBias)) }
        return list
    }

    public init(_ w: WeightMap, prefix p: String, configuration c: Mamba2Configuration) {
        norm = w["\(p).norm.weight"]
        inProjection = w["\(p).mixer.in_proj.weight"]
        inProjectionBias = w.tensorIfPresent("\(p).mixer.in_proj.bias")
        convolution = w["\(p).mixer.conv1d.weight"].reshaped([c.convolutionDimension, c.convolutionKernel])
        convolutionBias = w.tensorIfPresent("\(p).mixer.conv1d.bias")
        dtBias = w["\(p).mixer.dt_bias"]
        aLog = w["\(p).mixer.A_log"]
        D = w["\(p).mixer.D"]
        gatedNorm = w["\(p).mixer.norm.weight"]
        outProjection = w["\(p).mixer.out_proj.weight"]
        outProjectionBias = w.tensorIfPresent("\(p).mixer.out_proj.bias")
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
    public typealias Training = Mamba2LayerTraining
    public typealias Model = Mamba2Model
    public static func deltaOffsetSize(_ c: Mamba2Configuration) -> Int { c.numberOfHeads }
    public static var adaptableModules: [String] { [BlockTraining.inProjection, BlockTraining.outProjection] }
    /// Off: lblankl/ReMamba `ReMamba2/src/model/ressd_combined.py`, `MambaSplitConv1dScanCombinedFn.backward`,
    /// "In ReMamba2 we do not use rescale gradient" (see `ReMambaGradients` for what that code computes).
    public static var officialScalesImportanceGradient: Bool { false }
    public static func configuration(_ file: ModelConfiguration) -> Mamba2Configuration? { file.mamba2 }
    public static var otherFamilyMessage: String { "this is not a Mamba2 configuration; use MambaParameters for Mamba (v1)" }
}
