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

/// A base model with LoRA branches on its Linear modules (`LoRAModel`'s unmerged model): each branch is a
/// `LinearAdapter` beside the frozen weight it adapts, named as PEFT names it without the
/// `base_model.model.` prefix: <module>.lora_A.weight [r, in], <module>.lora_B.weight [out, r].
extension BackboneParameters {
    /// Modules that can carry a branch: every block's `Layer.adaptableModules` and the lm_head.
    public var adaptableModules: [String] {
        layers.indices.flatMap { i in Layer.adaptableModules.map { "\(BackboneTensors.layer(i)).\($0)" } } + [BackboneTensors.lmHead.module]
    }

    /// Takes the branches found in `w` onto their modules, with this pass's masks.
    public mutating func attachAdapters(from w: WeightMap, options: AdapterOptions, passSeed: UInt64) {
        func adapter(_ module: String) -> LinearAdapter? {
            guard let a = w.tensorIfPresent(module + ".lora_A.weight"), let b = w.tensorIfPresent(module + ".lora_B.weight") else { return nil }
            return LinearAdapter(a: a, b: b, scale: options.scale,
                                 mask: DropoutMask(probability: options.dropout, passSeed: passSeed, module: module))
        }
        for i in layers.indices {
            for module in Layer.adaptableModules { layers[i].adapters[module] = adapter("\(BackboneTensors.layer(i)).\(module)") }
        }
        headAdapter = adapter(BackboneTensors.lmHead.module)
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
    var adapterTensors: [(String, Tensor)] {
        var list: [(String, Tensor)] = []
        func add(_ module: String, _ adapter: LinearAdapter) {
            list += [(module + ".lora_A.weight", adapter.a), (module + ".lora_B.weight", adapter.b)]
        }
        for (i, layer) in layers.enumerated() { for (module, adapter) in layer.adapters { add("\(BackboneTensors.layer(i)).\(module)", adapter) } }
        if let headAdapter { add(BackboneTensors.lmHead.module, headAdapter) }
        return list
    }
}
