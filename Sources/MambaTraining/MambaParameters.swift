import Foundation
import MambaLM
import TensorCore

/// Every trainable tensor of a Mamba-1 model (Hugging Face `MambaForCausalLM` names), as a mutable value.
/// The same type holds the gradients (`zeros(like:)`), so a gradient has exactly a parameter's shape and
/// name. Legend: V vocab, D d_model, E d_inner, N d_state, R dt_rank, k conv_kernel.
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

    /// (checkpoint name suffix, tensor) pairs, in checkpoint shapes.
    func named(_ c: MambaConfiguration) -> [(String, Tensor)] {
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

    init(_ w: WeightMap, prefix p: String, configuration c: MambaConfiguration) {
        norm = w["\(p).norm.weight"]
        inProjection = w["\(p).mixer.in_proj.weight"]
        inProjectionBias = w.tensors["\(p).mixer.in_proj.bias"]
        convolution = w["\(p).mixer.conv1d.weight"].reshaped([c.innerSize, c.convolutionKernel])
        convolutionBias = w.tensors["\(p).mixer.conv1d.bias"]
        xProjection = w["\(p).mixer.x_proj.weight"]
        dtProjection = w["\(p).mixer.dt_proj.weight"]
        dtProjectionBias = w["\(p).mixer.dt_proj.bias"]
        aLog = w["\(p).mixer.A_log"]
        D = w["\(p).mixer.D"]
        outProjection = w["\(p).mixer.out_proj.weight"]
        outProjectionBias = w.tensors["\(p).mixer.out_proj.bias"]
    }

    /// Same shapes, all zeros (a gradient accumulator).
    func zeros() -> MambaLayerParameters {
        func z(_ t: Tensor) -> Tensor { Tensor(zeros: t.shape) }
        var g = self
        g.norm = z(norm); g.inProjection = z(inProjection); g.inProjectionBias = inProjectionBias.map(z)
        g.convolution = z(convolution); g.convolutionBias = convolutionBias.map(z)
        g.xProjection = z(xProjection); g.dtProjection = z(dtProjection); g.dtProjectionBias = z(dtProjectionBias)
        g.aLog = z(aLog); g.D = z(D); g.outProjection = z(outProjection); g.outProjectionBias = outProjectionBias.map(z)
        return g
    }
}

public struct MambaParameters: Sendable {
    public let configuration: MambaConfiguration
    public var embeddings: Tensor           // [V, D]   backbone.embeddings.weight
    public var layers: [MambaLayerParameters]
    public var finalNorm: Tensor            // [D]      backbone.norm_f.weight
    /// [V, D] lm_head.weight; nil when tied to the embeddings (the lm_head is then `embeddings`, and its
    /// gradient is accumulated into the embeddings' gradient, as PyTorch does for a shared parameter).
    public var lmHead: Tensor?

    /// From a strictly loaded weight map (names as `MambaModel.expectedWeights`).
    public init(weights w: WeightMap, configuration c: MambaConfiguration) {
        configuration = c
        embeddings = w["backbone.embeddings.weight"]
        layers = (0..<c.numberOfLayers).map { MambaLayerParameters(w, prefix: "backbone.layers.\($0)", configuration: c) }
        finalNorm = w["backbone.norm_f.weight"]
        lmHead = c.tieWordEmbeddings ? nil : w["lm_head.weight"]
    }

    /// Same shapes, all zeros: the gradient accumulator.
    public func zeros() -> MambaParameters {
        var g = self
        g.embeddings = Tensor(zeros: embeddings.shape)
        g.layers = layers.map { $0.zeros() }
        g.finalNorm = Tensor(zeros: finalNorm.shape)
        g.lmHead = lmHead.map { Tensor(zeros: $0.shape) }
        return g
    }

    /// Every tensor under its checkpoint name and in its checkpoint shape, sorted by name; a tied
    /// lm_head appears once, as backbone.embeddings.weight.
    public var named: [(String, Tensor)] {
        var list: [(String, Tensor)] = [("backbone.embeddings.weight", embeddings), ("backbone.norm_f.weight", finalNorm)]
        if let lmHead { list.append(("lm_head.weight", lmHead)) }
        for (i, layer) in layers.enumerated() {
            list += layer.named(configuration).map { ("backbone.layers.\(i).\($0.0)", $0.1) }
        }
        return list.sorted { $0.0 < $1.0 }
    }
}
