import Foundation
import MambaLM
import TensorCore

/// What a `remamba train` run optimises, built from a model directory: the objective (Mamba-1, Mamba-2, Llama or
/// ReMamba, in full or through LoRA), the trainable tensors it starts from, and how the result is written.
public struct TrainingTask {
    public let objective: any TrainingObjective
    public let initialParameters: NamedTensors
    /// Token ids must be below this.
    public let vocabularySize: Int
    /// Writes the trained tensors to the output directory (a model, or a PEFT adapter [+ merged model]).
    public let export: (NamedTensors, URL) throws -> Void

    /// `lora` nil: every parameter is trained. `remamba`: the ReMamba objective (ReMamba or ReMamba2, by the
    /// base's family); a plain base gets ReMamba's modules initialised as the official fine-tuning does
    /// (`ReMambaParameters(base:)`).
    public init(directory: ModelDirectory, lora: LoRASettings?, remamba: Bool, merge: Bool, options: TrainingOptions,
                seed: UInt64) throws {
        var options = options
        if let lora { options.adapters = AdapterOptions(scale: lora.scale, dropout: lora.dropout) }
        let base: NamedTensors, adaptable: [String], embeddingsName: String
        /// The objective of the model, untied (a tied head given its own `lm_head.weight`) when asked.
        let objective: (_ untied: Bool) -> any TrainingObjective
        switch directory.configuration.architecture {
        case .mamba:
            (base, vocabularySize, adaptable, objective) = try Self.model(MambaParameters.self, directory, remamba: remamba, options: options)
            embeddingsName = MambaParameters.embeddingsName
        case .mamba2:
            (base, vocabularySize, adaptable, objective) = try Self.model(Mamba2Parameters.self, directory, remamba: remamba, options: options)
            embeddingsName = Mamba2Parameters.embeddingsName
        case .llama:
            if remamba {
                throw LoadingError.unsupported(path: directory.url.appendingPathComponent("config.json").path,
                                               what: "--remamba with a Llama model (ReMamba compresses Mamba states)")
            }
            (base, vocabularySize, adaptable, objective) = try Self.model(LlamaParameters.self, directory, options: options)
            embeddingsName = LlamaParameters.embeddingsName
        }
        let source = directory.url
        guard let lora else {
            self.objective = objective(false)
            initialParameters = base
            export = { trained, out in try ModelExport.write(trained, source: source, to: out) }
            return
        }
        let model = LoRAModel(base: base, settings: lora, branchable: Set(adaptable), embeddingsName: embeddingsName)
        if let name = lora.targetModules.first(where: { !model.usedTargetModules.contains($0) }) {
            throw LoRATargetError.notFound(name)
        }
        if lora.dropout > 0, let module = model.mergedLinearModules.first {
            throw LoRATargetError.noDropout(module: module, dropout: lora.dropout)
        }
        self.objective = LoRAObjective(model: model, inner: objective(model.tiedHead))
        var generator = SeededGenerator(seed: seed ^ 0x10_4A)
        initialParameters = model.initialParameters(generator: &generator)
        export = { trained, out in
            try LoRAAdapterWriter.write(trained, model: model, baseModel: source.path, to: out)
            if merge {
                try ModelExport.write(model.merged(trained), source: source, to: out.appendingPathComponent("merged"),
                                      configurationChanges: model.tiedHead ? ["tie_word_embeddings": false] : [:])
            }
        }
    }

    /// The tensors of a `Base` model in `directory` (with ReMamba's modules when `remamba`), its vocabulary size,
    /// the modules that can carry a LoRA branch, and its objective, untied when asked.
    static func model<Base: TrainableBackbone>(_: Base.Type, _ directory: ModelDirectory, remamba: Bool, options: TrainingOptions)
        throws -> (NamedTensors, Int, [String], (_ untied: Bool) -> any TrainingObjective) {
        guard remamba else { return try model(Base.self, directory, options: options) }
        let p = directory.tensorFiles[ReMambaModules.marker] != nil
            ? try ReMambaParameters<Base>(directory: directory)
            : ReMambaParameters(base: try Base(directory: directory))
        let configuration = p.configuration
        let objective = { (untied: Bool) -> any TrainingObjective in
            ReMambaObjective<Base>(configuration: untied ? Base.untied(configuration) : configuration, options: options)
        }
        return (Dictionary(uniqueKeysWithValues: p.named), p.base.vocabularySize, p.base.adaptableModules, objective)
    }

    /// The same for the plain next-token objective of any model (Mamba-1, Mamba-2, Llama).
    static func model<Base: TrainableModel>(_: Base.Type, _ directory: ModelDirectory, options: TrainingOptions)
        throws -> (NamedTensors, Int, [String], (_ untied: Bool) -> any TrainingObjective) {
        let base = try Base(directory: directory)
        let configuration = base.configuration
        let objective = { (untied: Bool) -> any TrainingObjective in
            BackboneObjective<Base>(configuration: untied ? Base.untied(configuration) : configuration, options: options)
        }
        return (base.namedTensors, base.vocabularySize, base.adaptableModules, objective)
    }
}

/// A LoRA target the model cannot take.
public enum LoRATargetError: Error, CustomStringConvertible {
    /// No Linear or Embedding module of the model is called so (PEFT: "Target modules … not found").
    case notFound(String)
    /// LoRA dropout on a module whose training forward has no LoRA branch (ReMamba's Query/Key/Value).
    case noDropout(module: String, dropout: Double)

    public var description: String {
        switch self {
        case .notFound(let name):
            return "--lora-targets: \(name) names no Linear or Embedding module of the model"
        case .noDropout(let module, let dropout):
            return "--lora-dropout \(dropout): the LoRA target \(module) cannot be trained with dropout (branches run on "
                + "Mamba's in_proj, x_proj, dt_proj, out_proj, Llama's q/k/v/o_proj and gate/up/down_proj, and lm_head); leave it out of --lora-targets or use --lora-dropout 0"
        }
    }
}
