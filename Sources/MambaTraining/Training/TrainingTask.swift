import Foundation
import MambaLM
import TensorCore

/// What a `remamba train` run optimises, built from a model directory: the objective (Mamba-1 or ReMamba,
/// in full or through LoRA), the trainable tensors it starts from, and how the result is written.
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
        let configuration: MambaConfiguration
        if remamba {
            let p = directory.tensorFiles["backbone.Q_proj.0.weight"] != nil
                ? try ReMambaParameters(directory: directory)
                : ReMambaParameters(base: try MambaParameters(directory: directory))
            (base, configuration) = (Dictionary(uniqueKeysWithValues: p.named), p.configuration)
        } else {
            let p = try MambaParameters(directory: directory)
            (base, configuration) = (p.namedTensors, p.configuration)
        }
        vocabularySize = configuration.vocabularySize
        func objective(_ c: MambaConfiguration) -> any TrainingObjective {
            remamba ? ReMambaObjective(configuration: c, options: options) : MambaObjective(configuration: c, options: options)
        }
        let source = directory.url
        guard let lora else {
            self.objective = objective(configuration)
            initialParameters = base
            export = { trained, out in try ModelExport.write(trained, source: source, to: out) }
            return
        }
        let model = LoRAModel(base: base, settings: lora)
        var effectiveConfiguration = configuration
        if model.tiedHead { effectiveConfiguration.tieWordEmbeddings = false }
        self.objective = LoRAObjective(model: model, inner: objective(effectiveConfiguration))
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
