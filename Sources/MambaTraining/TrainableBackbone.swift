import Foundation
import MambaLM
import TensorCore

/// A base family (Mamba-1 or Mamba-2) as the training code sees it: embeddings → blocks → norm_f → lm_head,
/// each block trainable with ReMamba's Δ adaptation (Eq. 8) at some rows. `LayerStackTraining`,
/// `MambaGradients` and `ReMambaGradients` are written once over it. The same value holds the gradients
/// (`zeros()`). Legend: L rows, D d_model, V vocab.
public protocol TrainableBackbone: TrainableModel {
    associatedtype LayerTape: Sendable

    var embeddings: Tensor { get set }       // [V, D]
    var finalNorm: Tensor { get set }        // [D]
    /// [V, D]; nil when tied to the embeddings (its gradient then goes into the embeddings').
    var lmHead: Tensor? { get set }
    /// The lm_head's LoRA branch, if any.
    var headAdapter: LinearAdapter? { get set }
    var layerCount: Int { get }
    var layerNormEpsilon: Float { get }
    func zeros() -> Self
    /// The same LoRA factors with renewed masks for a second pass (ReMamba's stage 2).
    func nextDropoutPass() -> Self

    /// Block `layer`: hidden [L, D] → ([L, D], tape), from a zero state; `adaptation` rewrites the
    /// pre-activation of Δ at its rows (Mamba-1: W_dt·r per channel; Mamba-2: in_proj's dt per head).
    func layerForward(_ layer: Int, _ hidden: Tensor, scanChunk: Int, adaptation: LayerAdaptation?) -> (Tensor, LayerTape)
    /// Its backward: dOut [L, D] → dInput [L, D]; accumulates into `gradients` and, for an adapted block,
    /// into `adaptationGradient`.
    func layerBackward(_ layer: Int, _ tape: LayerTape, scanChunk: Int, outputGradient: Tensor, gradients: inout Self,
                       adaptationGradient: inout LayerAdaptation.Gradient?) -> Tensor

    /// Block `layer`'s in_proj [I, D] and out_proj [D, E] weights (ReMamba's official initialisation reads them).
    func projections(ofLayer layer: Int) -> (inProjection: Tensor, outProjection: Tensor)
    /// Θ_l's size: one per channel of Δ (Mamba-1: d_inner; Mamba-2: heads).
    var deltaOffsetSize: Int { get }
    /// Whether the authors' training backward multiplies ∂loss/∂α by α once more (see `ReMambaGradients`).
    static var officialScalesImportanceGradient: Bool { get }
    /// Strictly loads `directory` if its config.json is of this family: the base's tensors and, with
    /// `reMamba`, ReMamba's (Q/K/V_proj, layers.N.mixer.ret_bias.param).
    static func loadWeights(_ directory: ModelDirectory, reMamba: Bool) throws -> (WeightMap, Configuration)
}

extension TrainableBackbone {
    /// The weight matrix of the lm_head [V, D].
    var head: Tensor { lmHead ?? embeddings }

    /// Loads a checkpoint directory of this family with the strict checks of `ModelLoader`.
    public init(directory: ModelDirectory) throws {
        let (weights, configuration) = try Self.loadWeights(directory, reMamba: false)
        self.init(weights: weights, configuration: configuration)
    }

}

extension BackboneParameters: TrainableBackbone {
    public var layerCount: Int { layers.count }
    public var layerNormEpsilon: Float { configuration.layerNormEpsilon }
    public var vocabularySize: Int { configuration.vocabularySize }
    public static var embeddingsName: String { BackboneTensors.embeddings.rawValue }
    public var deltaOffsetSize: Int { Layer.Inference.deltaOffsetSize(configuration) }
    public static var officialScalesImportanceGradient: Bool { Layer.officialScalesImportanceGradient }

    public static func untied(_ c: Layer.Configuration) -> Layer.Configuration {
        var c = c
        c.tieWordEmbeddings = false
        return c
    }

    public func lossAndGradients(ids: [Int], targets: [Int?], options: TrainingOptions) -> (loss: Double, gradients: BackboneParameters) {
        MambaGradients.lossAndGradients(of: self, ids: ids, targets: targets, options: options)
    }

    public func projections(ofLayer i: Int) -> (inProjection: Tensor, outProjection: Tensor) {
        (layers[i].inProjection, layers[i].outProjection)
    }

    public func layerForward(_ i: Int, _ hidden: Tensor, scanChunk: Int,
                             adaptation: LayerAdaptation?) -> (Tensor, Layer.Training.Tape) {
        Layer.Training.forward(hidden, layers[i], configuration, scanChunk: scanChunk, adaptation: adaptation)
    }

    public func layerBackward(_ i: Int, _ tape: Layer.Training.Tape, scanChunk: Int, outputGradient: Tensor,
                              gradients: inout BackboneParameters, adaptationGradient: inout LayerAdaptation.Gradient?) -> Tensor {
        Layer.Training.backward(tape, layers[i], configuration, scanChunk: scanChunk, outputGradient: outputGradient,
                                gradients: &gradients.layers[i], adaptationGradient: &adaptationGradient)
    }

    public static func loadWeights(_ directory: ModelDirectory, reMamba: Bool) throws -> (WeightMap, Layer.Configuration) {
        guard let c = Layer.Inference.configuration(directory.configuration) else {
            throw LoadingError.unsupported(path: directory.url.appendingPathComponent("config.json").path,
                                           what: "this is not a \(Layer.Inference.familyName) configuration; use the parameters of its family "
                                               + "(MambaParameters for Mamba (v1), Mamba2Parameters for Mamba2)")
        }
        let n = ModelLoader.CheckpointNames(BackboneModel<Layer.Inference>.self, c)
        let weights = try WeightMap.load(from: directory, expected: reMamba ? n.plain.merging(n.extra) { a, _ in a } : n.plain,
                                         sanitize: n.sanitize)
        return (weights, c)
    }
}
