import Foundation
import MambaLM
import TensorCore

// A base model's trainable tensors written once over the two families: the family-specific pieces behind
// `TrainableLayer` (its block's tensors, `LayerTraining`, `BaseCheckpoint`), the rest in `BackboneParameters`.
// Legend: L rows, V vocab, D d_model, E d_inner, I in_proj outputs.

/// A base model's checkpoint layout (`MambaModel`, `Mamba2Model`): its tensors and its name rewriting.
public protocol BaseCheckpoint {
    associatedtype Configuration
    static func expectedWeights(_ c: Configuration) -> [String: [Int]]
    static func sanitize(_ c: Configuration) -> (String) -> String?
}

extension BackboneModel: BaseCheckpoint {}

/// One block's training forward and its backward (`MambaLayerTraining`, `Mamba2LayerTraining`).
public protocol LayerTraining {
    associatedtype Layer
    associatedtype Configuration
    associatedtype Tape: Sendable

    /// hidden [L, D] → (hidden [L, D], tape), from a zero state; `adaptation` rewrites Δ's pre-activation at its rows.
    static func forward(_ hidden: Tensor, _ p: Layer, _ c: Configuration, scanChunk: Int,
                        adaptation: LayerAdaptation?) -> (Tensor, Tape)
    /// dOut [L, D] → dInput [L, D]; accumulates into `gradients` and, for an adapted block, `adaptationGradient`.
    static func backward(_ tape: Tape, _ p: Layer, _ c: Configuration, scanChunk: Int, outputGradient: Tensor,
                         gradients: inout Layer, adaptationGradient: inout LayerAdaptation.Gradient?) -> Tensor
}

/// One block's trainable tensors of a base family (`MambaLayerParameters`, `Mamba2LayerParameters`), with
/// what the family does differently; everything else of a model is written once, in `BackboneParameters`.
public protocol TrainableLayer: Sendable {
    associatedtype Configuration: BackboneConfiguration
    associatedtype Training: LayerTraining where Training.Layer == Self, Training.Configuration == Configuration
    associatedtype Model: BaseCheckpoint where Model.Configuration == Configuration

    /// From a strictly loaded weight map, the block under `prefix` (backbone.layers.N).
    init(_ w: WeightMap, prefix: String, configuration: Configuration)
    /// (checkpoint name suffix, tensor) pairs, in checkpoint shapes.
    func named(_ c: Configuration) -> [(String, Tensor)]
    /// Same shapes, all zeros (a gradient accumulator).
    func zeros() -> Self
    var inProjection: Tensor { get }         // [I, D]
    var outProjection: Tensor { get }        // [D, E]
    /// LoRA branches by module suffix (mixer.in_proj, …), empty unless attached (`attachAdapters`); zeroed by
    /// `BackboneParameters.zeros()`.
    var adapters: [String: LinearAdapter] { get set }
    /// The modules whose training forward and backward go through `AdaptedLinear`.
    static var adaptableModules: [String] { get }

    /// Θ_l's size: one per channel of Δ (Mamba-1: d_inner; Mamba-2: heads).
    static func deltaOffsetSize(_ c: Configuration) -> Int
    /// See `TrainableBackbone.officialScalesImportanceGradient`.
    static var officialScalesImportanceGradient: Bool { get }
    /// This family's configuration in a config.json, nil when it is of the other family …
    static func configuration(_ file: ModelConfiguration) -> Configuration?
    /// … and what the loading error then says.
    static var otherFamilyMessage: String { get }
}

/// Every trainable tensor of a base model (Hugging Face `MambaForCausalLM` / `Mamba2ForCausalLM` names), as
/// a mutable value: embeddings → blocks → norm_f → lm_head. The same type holds the gradients (`zeros()`),
/// so a gradient has exactly a parameter's shape and name. `MambaParameters` and `Mamba2Parameters` are it.
public struct BackboneParameters<Layer: TrainableLayer>: Sendable {
    public let configuration: Layer.Configuration
    public var embeddings: Tensor           // [V, D]   backbone.embeddings.weight
    public var layers: [Layer]
    public var finalNorm: Tensor            // [D]      backbone.norm_f.weight
    /// [V, D] lm_head.weight; nil when tied to the embeddings (the lm_head is then `embeddings`, and its
    /// gradient is accumulated into the embeddings' gradient, as PyTorch does for a shared parameter).
    public var lmHead: Tensor?
    /// The lm_head's LoRA branch (see BackboneParameters+Adapters).
    public var headAdapter: LinearAdapter?

    /// From a strictly loaded weight map (names as the base model's `expectedWeights`).
    public init(weights w: WeightMap, configuration c: Layer.Configuration) {
        configuration = c
        embeddings = w["backbone.embeddings.weight"]
        layers = (0..<c.numberOfLayers).map { Layer(w, prefix: "backbone.layers.\($0)", configuration: c) }
        finalNorm = w["backbone.norm_f.weight"]
        lmHead = c.tieWordEmbeddings ? nil : w["lm_head.weight"]
    }

    /// Same shapes, all zeros: the gradient accumulator.
    public func zeros() -> BackboneParameters {
        var g = self
        g.embeddings = Tensor(zeros: embeddings.shape)
        g.layers = layers.map { layer in
            var z = layer.zeros()
            z.adapters = layer.adapters.mapValues { $0.zeros() }
            return z
        }
        g.finalNorm = Tensor(zeros: finalNorm.shape)
        g.lmHead = lmHead.map { Tensor(zeros: $0.shape) }
        g.headAdapter = headAdapter?.zeros()
        return g
    }

    /// Every tensor under its checkpoint name and in its checkpoint shape, sorted by name; a tied
    /// lm_head appears once, as backbone.embeddings.weight. LoRA branches appear under their PEFT names.
    public var named: [(String, Tensor)] {
        var list = [("backbone.embeddings.weight", embeddings), ("backbone.norm_f.weight", finalNorm)] + adapterTensors
        if let lmHead { list.append(("lm_head.weight", lmHead)) }
        for (i, layer) in layers.enumerated() {
            list += layer.named(configuration).map { ("backbone.layers.\(i).\($0.0)", $0.1) }
        }
        return list.sorted { $0.0 < $1.0 }
    }
}
