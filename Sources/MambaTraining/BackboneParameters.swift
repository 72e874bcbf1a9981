import Foundation
import MambaLM
import TensorCore

// A base model's trainable tensors written once over the two families: the family-specific pieces behind
// `TrainableLayer` (its block's tensors, `LayerTraining`), the rest in `BackboneParameters`. Every checkpoint
// name comes from the inference side's declarations (`BackboneTensors`, `MambaTensors`, `Mamba2Tensors`).
// Legend: L rows, V vocab, D d_model, E d_inner, I in_proj outputs.

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
public protocol TrainableLayer: Sendable, AdaptableLayer {
    /// The inference block of the same family: its configuration, its tensors' declarations, Θ_l's size.
    associatedtype Inference: BackboneLayer
    typealias Configuration = Inference.Configuration
    associatedtype Training: LayerTraining where Training.Layer == Self, Training.Configuration == Configuration

    /// From the block's module of a strictly loaded weight map, every tensor as Float32.
    init(_ w: ModuleWeights<Inference.Tensors>)
    /// The tensor a declaration names (nil for an optional bias the configuration has not).
    subscript(t: Inference.Tensors) -> Tensor? { get }
    /// Same shapes, all zeros (a gradient accumulator).
    func zeros() -> Self
    var inProjection: Tensor { get }         // [I, D]
    var outProjection: Tensor { get }        // [D, E]
    /// See `TrainableBackbone.officialScalesImportanceGradient`.
    static var officialScalesImportanceGradient: Bool { get }
}

extension TrainableLayer {
    /// (checkpoint name under `prefix`, tensor) pairs, in checkpoint shapes.
    func named(_ c: Configuration, prefix: String) -> [(String, Tensor)] {
        Inference.Tensors.named(c, prefix: prefix) { self[$0] }
    }
}

/// Every trainable tensor of a base model (Hugging Face `MambaForCausalLM` / `Mamba2ForCausalLM` names), as
/// a mutable value: embeddings → blocks → norm_f → lm_head. The same type holds the gradients (`zeros()`),
/// so a gradient has exactly a parameter's shape and name. `MambaParameters` and `Mamba2Parameters` are it.
public struct BackboneParameters<Layer: TrainableLayer>: Sendable {
    public let configuration: Layer.Configuration
    public var embeddings: Tensor           // [V, D]   BackboneTensors.embeddings
    public var layers: [Layer]
    public var finalNorm: Tensor            // [D]      BackboneTensors.finalNorm
    /// [V, D] BackboneTensors.lmHead; nil when tied to the embeddings (the lm_head is then `embeddings`, and its
    /// gradient is accumulated into the embeddings' gradient, as PyTorch does for a shared parameter).
    public var lmHead: Tensor?
    /// The lm_head's LoRA branch (see BackboneParameters+Adapters).
    public var headAdapter: LinearAdapter?

    /// From a strictly loaded weight map (names as the base model's `expectedWeights`).
    public init(weights: WeightMap, configuration c: Layer.Configuration) {
        configuration = c
        let w = ModuleWeights<BackboneTensors>(weights, configuration: c)
        embeddings = w.tensor(.embeddings)
        layers = (0..<c.numberOfLayers).map { Layer(ModuleWeights(weights, prefix: BackboneTensors.layer($0), configuration: c)) }
        finalNorm = w.tensor(.finalNorm)
        lmHead = w.tensorIfPresent(.lmHead)
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
        var list = BackboneTensors.named(configuration, prefix: "") { t in
            switch t {
            case .embeddings: embeddings
            case .finalNorm: finalNorm
            case .lmHead: lmHead
            }
        }
        list += adapterTensors
        for (i, layer) in layers.enumerated() { list += layer.named(configuration, prefix: BackboneTensors.layer(i)) }
        return list.sorted { $0.0 < $1.0 }
    }
}
