import Foundation
import MambaLM
import TensorCore

/// LoRA over a frozen base, in PEFT's terms and names. The trainable tensors are keyed exactly as PEFT's
/// adapter_model.safetensors, so saving the adapter is writing them:
///     base_model.model.<module>.lora_A.weight [r, in],  .lora_B.weight [out, r]     nn.Linear W [out, in]
///     base_model.model.<module>.lora_embedding_A [r, V], .lora_embedding_B [D, r]   nn.Embedding W [V, D]
///     base_model.model.<name>                                                       modules_to_save, whole
/// Merged weights (equal to PEFT's unmerged forward without dropout): Linear W + s·B·A, Embedding
/// W + s·(B·A)ᵀ, s = alpha / r. A tied lm_head is the embedding matrix with its own LoRA pair, so the model the
/// objective sees is untied: `lm_head.weight` = E + s·B·A beside the embeddings' own E + s·(B·A)ᵀ.
/// Linear targets among `branchable` modules (those whose training forward runs a `LinearAdapter`) are trained as
/// branches instead: the objective sees the frozen W beside <module>.lora_A.weight and .lora_B.weight. That is
/// the only way to LoRA dropout (PEFT drops the branch's input alone, B·A·dropout(x)), and faster (no dW of the
/// frozen W, no merged copy per step). Embeddings stay merged (PEFT never drops an Embedding's input).
public struct LoRAModel: Sendable {
    public let settings: LoRASettings
    public let base: NamedTensors
    /// The base has no lm_head.weight: the head is the embeddings.
    public let tiedHead: Bool
    /// Modules whose Linear target is trained as a branch (`TrainableModel.adaptableModules`).
    public let branchable: Set<String>
    /// The embedding matrix's checkpoint name (`TrainableModel.embeddingsName`): a LoRA target as nn.Embedding, and
    /// what a tied lm_head is.
    public let embeddingsName: String

    struct Target: Sendable {
        let module: String        // PEFT module path (backbone.layers.0.mixer.in_proj, lm_head, …)
        let baseName: String      // the frozen tensor it starts from
        let effectiveName: String // the tensor of the effective model
        let isEmbedding: Bool
    }
    let targets: [Target]
    /// Base tensors trained whole (modules_to_save).
    let savedNames: [String]

    static let prefix = "base_model.model."

    public init(base: NamedTensors, settings: LoRASettings, branchable: Set<String> = [],
                embeddingsName: String = BackboneTensors.embeddings.rawValue) {
        (self.base, self.settings, self.branchable, self.embeddingsName) = (base, settings, branchable, embeddingsName)
        tiedHead = base[BackboneTensors.lmHead.rawValue] == nil
        var targets: [Target] = []
        for name in base.keys.sorted() where name.hasSuffix(".weight") && base[name]!.rank == 2 {
            let module = String(name.dropLast(".weight".count))
            guard LoRASettings.matches(module, settings.targetModules) else { continue }
            targets.append(Target(module: module, baseName: name, effectiveName: name, isEmbedding: name == embeddingsName))
        }
        if tiedHead, LoRASettings.matches(BackboneTensors.lmHead.module, settings.targetModules) {
            targets.append(Target(module: BackboneTensors.lmHead.module, baseName: embeddingsName,
                                  effectiveName: BackboneTensors.lmHead.rawValue, isEmbedding: false))
        }
        self.targets = targets
        let targeted = Set(targets.map(\.baseName))
        // A tensor is saved whole when it or a module above it is named in modules_to_save (Q_proj.0.weight
        // is in the module Q_proj; Mamba2's dt_bias is a parameter of its own).
        savedNames = base.keys.sorted().filter { !targeted.contains($0) && Self.isSaved($0, settings.modulesToSave) }
    }

    static func isSaved(_ name: String, _ modules: [String]) -> Bool {
        let parts = name.split(separator: ".")
        return (1...parts.count).contains { LoRASettings.matches(parts.prefix($0).joined(separator: "."), modules) }
    }

    /// The target_modules and modules_to_save that name something in this model (what adapter_config.json
    /// lists: PEFT and `PEFTAdapter` refuse a target module the model does not have).
    public var usedTargetModules: [String] {
        settings.targetModules.filter { t in targets.contains { LoRASettings.matches($0.module, [t]) } }
    }
    public var usedModulesToSave: [String] {
        settings.modulesToSave.filter { t in savedNames.contains { Self.isSaved($0, [t]) } }
    }

    func keyA(_ t: Target) -> String { Self.prefix + t.module + (t.isEmbedding ? ".lora_embedding_A" : ".lora_A.weight") }
    func keyB(_ t: Target) -> String { Self.prefix + t.module + (t.isEmbedding ? ".lora_embedding_B" : ".lora_B.weight") }

    /// Whether target `t` reaches the objective as a branch rather than merged.
    func isBranch(_ t: Target) -> Bool { !t.isEmbedding && branchable.contains(t.module) }

    /// The Linear targets trained through branches, and those merged (which cannot take dropout).
    public var branchModules: [String] { targets.filter(isBranch).map(\.module) }
    public var mergedLinearModules: [String] { targets.filter { !$0.isEmbedding && !isBranch($0) }.map(\.module) }

    /// PEFT's initialisation (init_lora_weights=True): Linear A ~ kaiming_uniform(a=√5) = U(±1/√in), B = 0;
    /// Embedding A = 0, B ~ N(0, 1). The delta starts at zero either way.
    public func initialParameters(generator: inout SeededGenerator) -> NamedTensors {
        let r = settings.rank
        var p: NamedTensors = [:]
        for t in targets {
            let w = base[t.baseName]!.shape
            if t.isEmbedding {
                p[keyA(t)] = Tensor(zeros: [r, w[0]])
                p[keyB(t)] = Tensor.randomNormal([w[1], r], generator: &generator)
            } else {
                let (out, input) = (w[0], w[1])
                let bound = 1 / Float(input).squareRoot()
                p[keyA(t)] = Tensor(shape: [r, input], data: (0..<(r * input)).map { _ in (generator.nextUniform() * 2 - 1) * bound })
                p[keyB(t)] = Tensor(zeros: [out, r])
            }
        }
        for name in savedNames { p[Self.prefix + name] = base[name]! }
        return p
    }

    /// The model the objective sees: base + merged deltas and the branches beside their frozen weights;
    /// trained whole tensors in place; untied when tiedHead.
    public func effective(_ trainable: NamedTensors) -> NamedTensors {
        var model = merged(trainable, only: targets.filter { !isBranch($0) })
        for t in targets where isBranch(t) {
            model[t.module + ".lora_A.weight"] = trainable[keyA(t)]!
            model[t.module + ".lora_B.weight"] = trainable[keyB(t)]!
        }
        return model
    }

    /// The model with every delta merged (`--merge`; untied when tiedHead).
    public func merged(_ trainable: NamedTensors) -> NamedTensors { merged(trainable, only: targets) }

    func merged(_ trainable: NamedTensors, only mergedTargets: [Target]) -> NamedTensors {
        var model = base
        if tiedHead { model[BackboneTensors.lmHead.rawValue] = base[embeddingsName] }
        for name in savedNames { model[name] = trainable[Self.prefix + name]! }
        for t in mergedTargets {
            let a = trainable[keyA(t)]!, b = trainable[keyB(t)]!
            let delta = t.isEmbedding ? MatrixProduct.product(a, b, transposeX: true, transposeY: true, scale: settings.scale)
                                      : MatrixProduct.product(b, a, scale: settings.scale)
            var w = model[t.effectiveName]!
            w.data.withUnsafeMutableBufferPointer { w in delta.data.withUnsafeBufferPointer { d in for i in 0..<w.count { w[i] += d[i] } } }
            model[t.effectiveName] = w
        }
        return model
    }

    /// Gradients of the trainable tensors from those of the effective model: a branch's own dA and dB, or
    /// from a merged weight's  Linear dA = s·Bᵀ·dW, dB = s·dW·Aᵀ;  Embedding dA = s·Bᵀ·dWᵀ, dB = s·dWᵀ·Aᵀ.
    public func gradients(_ trainable: NamedTensors, effectiveGradients g: NamedTensors) -> NamedTensors {
        let s = settings.scale
        var result: NamedTensors = [:]
        for t in targets {
            if isBranch(t) {
                result[keyA(t)] = g[t.module + ".lora_A.weight"]!
                result[keyB(t)] = g[t.module + ".lora_B.weight"]!
                continue
            }
            let a = trainable[keyA(t)]!, b = trainable[keyB(t)]!, dW = g[t.effectiveName]!
            if t.isEmbedding {
                result[keyA(t)] = MatrixProduct.product(b, dW, transposeX: true, transposeY: true, scale: s)
                result[keyB(t)] = MatrixProduct.product(dW, a, transposeX: true, transposeY: true, scale: s)
            } else {
                result[keyA(t)] = MatrixProduct.product(b, dW, transposeX: true, scale: s)
                result[keyB(t)] = MatrixProduct.product(dW, a, transposeY: true, scale: s)
            }
        }
        for name in savedNames { result[Self.prefix + name] = g[name]! }
        return result
    }
}

/// The objective of the effective model, with the gradients carried back to the LoRA factors.
public struct LoRAObjective: TrainingObjective {
    public let model: LoRAModel
    /// Sees the effective model (untied when the base's head is tied).
    public let inner: any TrainingObjective

    public init(model: LoRAModel, inner: any TrainingObjective) { (self.model, self.inner) = (model, inner) }

    public func lossAndGradients(_ parameters: NamedTensors, example: TrainingExample,
                                 generator: inout SeededGenerator) -> (loss: Double, gradients: NamedTensors) {
        let (loss, full) = inner.lossAndGradients(model.effective(parameters), example: example, generator: &generator)
        return (loss, model.gradients(parameters, effectiveGradients: full))
    }
}
