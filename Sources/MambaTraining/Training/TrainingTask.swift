import Foundation
import MambaLM
import TensorCore

/// What a `remamba train` run optimises, built from a model directory: the objective (Mamba-1, Mamba-2 or
/// ReMamba, in full or through LoRA), the trainable tensors it starts from, and how the result is written.
public struct TrainingTask {
    public let objective: any TrainingObjective
    public let initialParameters: NamedTensors
    /// Token ids must be below this.
    public let vocabularySize: Int
    /// Writes the trained tensors to the output directory (a model, or a PEFT adapter [+ merged model]).
    public let export: (NamedTensors, URL) throws -> Void

    /// `lora` nil: every parameter is trained. `remamba`: the ReMamba objective; a plain Mamba base gets
    /// ReMamba's modules initialised as the official fine-tuning does (`ReMambaParameters(base:)`).
    public init(directory: ModelDirectory, lora: LoRASettings?, remamba: Bool, merge: Bool, options: TrainingOptions,
                seed: UInt64) throws {
        let base: NamedTensors
        /// The objective of the model, untied (a tied head given its own `lm_head.weight`) when asked.
        let objective: (_ untied: Bool) -> any TrainingObjective
        switch directory.configuration.architecture {
        case .mamba(let c):
            if remamba {
                let p = directory.tensorFiles["backbone.Q_proj.0.weight"] != nil
                    ? try ReMambaParameters(directory: directory)
                    : ReMambaParameters(base: try MambaParameters(directory: directory))
                base = Dictionary(uniqueKeysWithValues: p.named)
            } else {
                base = try MambaParameters(directory: directory).namedTensors
            }
            objective = { untied in
                var c = c
                if untied { c.tieWordEmbeddings = false }
                return remamba ? ReMambaObjective(configuration: c, options: options) : MambaObjective(configuration: c, options: options)
            }
            vocabularySize = c.vocabularySize
        case .mamba2(let c):
            if remamba {
                throw LoadingError.unsupported(path: directory.url.appendingPathComponent("config.json").path,
                                               what: "ReMamba training is implemented for Mamba (v1) backbones only")
            }
            base = Dictionary(uniqueKeysWithValues: try Mamba2Parameters(directory: directory).named)
            objective = { untied in
                var c = c
                if untied { c.tieWordEmbeddings = false }
                return Mamba2Objective(configuration: c, options: options)
            }
            vocabularySize = c.vocabularySize
        }
        let source = directory.url
        guard let lora else {
            self.objective = objective(false)
            initialParameters = base
            export = { trained, out in try ModelExport.write(trained, source: source, to: out) }
            return
        }
        let model = LoRAModel(base: base, settings: lora)
        self.objective = LoRAObjective(model: model, inner: objective(model.tiedHead))
        var generator = SeededGenerator(seed: seed ^ 0x10_4A)
        initialParameters = model.initialParameters(generator: &generator)
        export = { trained, out in
            try LoRAAdapterWriter.write(trained, model: model, baseModel: source.path, to: out)
            if merge {
                try ModelExport.write(model.effective(trained), source: source, to: out.appendingPathComponent("merged"),
                                      configurationChanges: model.tiedHead ? ["tie_word_embeddings": false] : [:])
            }
        }
    }
}
