import Foundation
import MambaLM
import TensorCore

/// Every trainable tensor of a Mamba-2 model (Hugging Face `Mamba2ForCausalLM` names), as a mutable value;
/// the same type holds the gradients (`zeros()`). The public API mirrors `MambaParameters`, so that
/// training code treats both families alike through `named`.
/// Legend: V vocab, D d_model, E d_inner = H·P, H heads, G groups, N d_state, k conv_kernel,
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

    /// (checkpoint name suffix, tensor) pairs, in checkpoint shapes.
    func named(_ c: Mamba2Configuration) -> [(String, Tensor)] {
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

    init(_ w: WeightMap, prefix p: String, configuration c: Mamba2Configuration) {
        norm = w["\(p).norm.weight"]
        inProjection = w["\(p).mixer.in_proj.weight"]
        inProjectionBias = w.tensors["\(p).mixer.in_proj.bias"]
        convolution = w["\(p).mixer.conv1d.weight"].reshaped([c.convolutionDimension, c.convolutionKernel])
        convolutionBias = w.tensors["\(p).mixer.conv1d.bias"]
        dtBias = w["\(p).mixer.dt_bias"]
        aLog = w["\(p).mixer.A_log"]
        D = w["\(p).mixer.D"]
        gatedNorm = w["\(p).mixer.norm.weight"]
        outProjection = w["\(p).mixer.out_proj.weight"]
        outProjectionBias = w.tensors["\(p).mixer.out_proj.bias"]
    }

    /// Same shapes, all zeros (a gradient accumulator).
    func zeros() -> Mamba2LayerParameters {
        func z(_ t: Tensor) -> Tensor { Tensor(zeros: t.shape) }
        var g = self
        g.norm = z(norm); g.inProjection = z(inProjection); g.inProjectionBias = inProjectionBias.map(z)
        g.convolution = z(convolution); g.convolutionBias = convolutionBias.map(z)
        g.dtBias = z(dtBias); g.aLog = z(aLog); g.D = z(D); g.gatedNorm = z(gatedNorm)
        g.outProjection = z(outProjection); g.outProjectionBias = outProjectionBias.map(z)
        return g
    }
}

public struct Mamba2Parameters: Sendable {
    public let configuration: Mamba2Configuration
    public var embeddings: Tensor           // [V, D]   backbone.embeddings.weight
    public var layers: [Mamba2LayerParameters]
    public var finalNorm: Tensor            // [D]      backbone.norm_f.weight
    /// [V, D] lm_head.weight; nil when tied to the embeddings (its gradient then goes into the embeddings').
    public var lmHead: Tensor?

    /// From a strictly loaded weight map (names as `Mamba2Model.expectedWeights`).
    public init(weights w: WeightMap, configuration c: Mamba2Configuration) {
        configuration = c
        embeddings = w["backbone.embeddings.weight"]
        layers = (0..<c.numberOfLayers).map { Mamba2LayerParameters(w, prefix: "backbone.layers.\($0)", configuration: c) }
        finalNorm = w["backbone.norm_f.weight"]
        lmHead = c.tieWordEmbeddings ? nil : w["lm_head.weight"]
    }

    /// Same shapes, all zeros: the gradient accumulator.
    public func zeros() -> Mamba2Parameters {
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
