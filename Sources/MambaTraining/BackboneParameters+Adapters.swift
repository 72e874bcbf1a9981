import MambaLM
import TensorCore

/// How the LoRA branches among a model's parameters apply (PEFT's `scaling` = alpha / r and `lora_dropout`).
public struct AdapterOptions: Sendable, Equatable {
    public var scale: Float
    public var dropout: Double

    public init(scale: Float = 1, dropout: Double = 0) { (self.scale, self.dropout) = (scale, dropout) }
}

extension TrainingOptions {
    /// The seed of one example's dropout masks, drawn from the trainer's generator (so a resumed run draws the
    /// same masks) only when there is dropout, so that runs without it draw exactly what they drew before.
    func passSeed(_ generator: inout SeededGenerator) -> UInt64 { adapters.dropout > 0 ? generator.next() : 0 }
}

/// The layers of a model whose Linear modules can carry LoRA branches (`TrainableLayer`, `LlamaLayerParameters`).
public protocol AdaptableLayer {
    /// LoRA branches by module suffix (mixer.in_proj, self_attn.q_proj, …), empty unless attached.
    var adapters: [String: LinearAdapter] { get set }
    /// The modules whose training forward and backward go through `AdaptedLinear`.
    static var adaptableModules: [String] { get }
}

/// A base model with LoRA branches on its Linear modules (`LoRAModel`'s unmerged model): each branch is a
/// `LinearAdapter` beside the frozen weight it adapts, named as PEFT names it without the
/// `base_model.model.` prefix: <module>.lora_A.weight [r, in], <module>.lora_B.weight [out, r]. Written once
/// over a stack of `AdaptableLayer`s, layer i under `prefix(i)`, and the lm_head (the family's model types call it).
enum LayerAdapters {
    static let head = BackboneTensors.lmHead.module

    /// Modules that can carry a branch: every layer's `adaptableModules` and the lm_head.
    static func modules<Layer: AdaptableLayer>(_ layers: [Layer], prefix: (Int) -> String) -> [String] {
        layers.indices.flatMap { i in Layer.adaptableModules.map { "\(prefix(i)).\($0)" } } + [head]
    }

    /// Takes the branches found in `w` onto their modules, with this pass's masks.
    static func attach<Layer: AdaptableLayer>(_ layers: inout [Layer], headAdapter: inout LinearAdapter?, prefix: (Int) -> String,
                                              from w: WeightMap, options: AdapterOptions, passSeed: UInt64) {
        func adapter(_ module: String) -> LinearAdapter? {
            guard let a = w.tensorIfPresent(module + ".lora_A.weight"), let b = w.tensorIfPresent(module + ".lora_B.weight") else { return nil }
            return LinearAdapter(a: a, b: b, scale: options.scale,
                                 mask: DropoutMask(probability: options.dropout, passSeed: passSeed, module: module))
        }
        for i in layers.indices {
            for module in Layer.adaptableModules { layers[i].adapters[module] = adapter("\(prefix(i)).\(module)") }
        }
        headAdapter = adapter(head)
    }

    /// (name, tensor) of every branch's factors.
    static func tensors<Layer: AdaptableLayer>(_ layers: [Layer], headAdapter: LinearAdapter?, prefix: (Int) -> String) -> [(String, Tensor)] {
        var list: [(String, Tensor)] = []
        func add(_ module: String, _ adapter: LinearAdapter) {
            list += [(module + ".lora_A.weight", adapter.a), (module + ".lora_B.weight", adapter.b)]
        }
        for (i, layer) in layers.enumerated() { for (module, adapter) in layer.adapters { add("\(prefix(i)).\(module)", adapter) } }
        if let headAdapter { add(head, headAdapter) }
        return list
    }
}

extension BackboneParameters {
    /// Modules that can carry a branch: every block's `Layer.adaptableModules` and the lm_head.
    public var adaptableModules: [String] { LayerAdapters.modules(layers, prefix: BackboneTensors.layer) }

    /// Takes the branches found in `w` onto their modules, with this pass's masks.
    public mutating func attachAdapters(from w: WeightMap, options: AdapterOptions, passSeed: UInt64) {
        LayerAdapters.attach(&layers, headAdapter: &headAdapter, prefix: BackboneTensors.layer, from: w, options: options, passSeed: passSeed)
    }

    /// The same factors with fresh masks for another pass over the blocks (ReMamba's stage 2).
    public func nextDropoutPass() -> BackboneParameters {
        var p = self
        for i in layers.indices {
            for (module, adapter) in layers[i].adapters { p.layers[i].adapters[module] = adapter.nextPass(module: "\(BackboneTensors.layer(i)).\(module)") }
        }
        p.headAdapter = headAdapter?.nextPass(module: BackboneTensors.lmHead.module)
        return p
    }

    /// (name, tensor) of every branch's factors.
    var adapterTensors: [(String, Tensor)] { LayerAdapters.tensors(layers, headAdapter: headAdapter, prefix: BackboneTensors.layer) }
}
