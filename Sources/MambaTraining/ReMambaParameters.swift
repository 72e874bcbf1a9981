import Foundation
import MambaLM
import TensorCore

/// Every trainable tensor of a ReMamba model over a base family (Mamba-1: `ReMambaForCausalLM`, Mamba-2:
/// `ReMambaLMHeadModel` of lblankl/ReMamba), under the official checkpoint names: the base's, plus
/// Query/Key/Value of stage 1 and Θ_l of stage 2. The same type holds the gradients (`zeros()`).
/// Legend: D d_model, E d_inner, C = Θ_l's size (Mamba-1: E; Mamba-2: heads).
public struct ReMambaParameters<Base: TrainableBackbone>: Sendable {
    public var base: Base
    public var query: FeedForwardParameters      // ReMambaModules.query
    public var key: FeedForwardParameters        // ReMambaModules.key
    public var value: FeedForwardParameters      // ReMambaModules.value
    /// Θ_l, one [C] per layer: `DeltaOffsetTensors` under each layer (the paper's Θ is `deltaOffset` in code; docs/ARCHITECTURE.md).
    public var deltaOffsets: [Tensor]

    public var configuration: Base.Configuration { base.configuration }

    /// From a strictly loaded weight map holding the base's and ReMamba's tensors.
    public init(weights w: WeightMap, configuration c: Base.Configuration) {
        base = Base(weights: w, configuration: c)
        let d = base.embeddings.columns                                // D
        func module(_ m: ReMambaModules) -> FeedForwardParameters { FeedForwardParameters(ModuleWeights(w, prefix: m.rawValue, configuration: d)) }
        (query, key, value) = (module(.query), module(.key), module(.value))
        let size = base.deltaOffsetSize
        deltaOffsets = (0..<base.layerCount).map {
            ModuleWeights<DeltaOffsetTensors>(w, prefix: BackboneTensors.layer($0), configuration: size).tensor(.deltaOffset)
        }
    }

    /// Loads a ReMamba checkpoint directory of the base's family, with the strict checks of `ModelLoader`.
    public init(directory: ModelDirectory) throws {
        guard directory.tensorFiles[ReMambaModules.marker] != nil else {
            throw CompressionError.notAReMambaCheckpoint(directory: directory.url.path)
        }
        let (weights, c) = try Base.loadWeights(directory, reMamba: true)
        self.init(weights: weights, configuration: c)
    }

    /// ReMamba's modules added to a plain base, as the official fine-tuning starts (lblankl/ReMamba, "init weight"
    /// in `Remambahf/Finetune.py` for Mamba-1 and `ReMamba2/Finetune.py` for Mamba-2, the same code): from layer
    /// 0's projections, Key = (in_proj rows [0, D), [D, 2D)), Query = (in_proj rows [2D, 3D), [3D, 4D)),
    /// Value = (out_proj columns [0, D), [D, 2D)) for the weights of its Linear 0 and Linear 2; every Q/K/V bias 0
    /// (the `_init_weights` of transformers' Mamba and of mamba_ssm zero nn.Linear biases); Θ = 0.
    /// Needs d_inner ≥ 2·d_model (expand ≥ 2, as every released Mamba and Mamba-2).
    public init(base: Base) {
        let (inProjection, outProjection) = base.projections(ofLayer: 0)          // [I, D], [D, E]
        let (d, e) = (outProjection.rows, outProjection.columns)
        precondition(e >= 2 * d && inProjection.rows >= 4 * d,
                     "ReMambaParameters(base:): the official initialisation needs d_inner ≥ 2·d_model, got \(e) < 2·\(d)")
        func projection(_ weight0: Tensor, _ weight2: Tensor) -> FeedForwardParameters {
            FeedForwardParameters(weight0: weight0, bias0: Tensor(zeros: [d]), weight2: weight2, bias2: Tensor(zeros: [d]))
        }
        self.base = base
        key = projection(inProjection.rows(0..<d), inProjection.rows(d..<(2 * d)))
        query = projection(inProjection.rows((2 * d)..<(3 * d)), inProjection.rows((3 * d)..<(4 * d)))
        value = projection(ColumnBlocks.slice(outProjection, 0, d), ColumnBlocks.slice(outProjection, d, d))
        deltaOffsets = (0..<base.layerCount).map { _ in Tensor(zeros: [base.deltaOffsetSize]) }
    }

    /// Same shapes, all zeros: the gradient accumulator.
    public func zeros() -> ReMambaParameters {
        var g = self
        g.base = base.zeros()
        (g.query, g.key, g.value) = (query.zeros(), key.zeros(), value.zeros())
        g.deltaOffsets = deltaOffsets.map { Tensor(zeros: $0.shape) }
        return g
    }

    /// Every tensor under its checkpoint name and in its checkpoint shape, sorted by name (the base's as
    /// its `named`; a tied lm_head appears once, as backbone.embeddings.weight).
    public var named: [(String, Tensor)] {
        var list = base.named
        for (module, projection) in [(ReMambaModules.query, query), (.key, key), (.value, value)] {
            list += projection.named(prefix: module.rawValue)
        }
        for (i, offset) in deltaOffsets.enumerated() {
            list += DeltaOffsetTensors.named(offset.count, prefix: BackboneTensors.layer(i)) { _ in offset }
        }
        return list.sorted { $0.0 < $1.0 }
    }
}
