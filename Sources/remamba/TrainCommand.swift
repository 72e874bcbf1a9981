import ArgumentParser
import Foundation
import MambaLM
import MambaTraining
import Tokenization

/// `remamba train`: fine-tuning or pre-training on a JSONL instruction file or plain text, with AdamW, a
/// cosine schedule, gradient clipping and accumulation (defaults as the paper's run). Writes to --out the
/// trained model (also at every checkpoint), checkpoint.safetensors (resumable with --resume), train_log.jsonl
/// and loss.svg.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a Mamba or Llama model on plain text (pre-training) or JSONL instruction data (fine-tuning).")

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: ArgumentHelp("Training data, repeatable (mixed in one shuffled order): *.jsonl instruction data (OpenOrca, LongAlpaca, prompt/completion) or a plain text file.", valueName: "file"))
    var data: [String]
    @Option(help: "Data format: auto (by extension and keys), text, openorca, longalpaca, prompt-completion.")
    var format = "auto"
    @Option(help: ArgumentHelp("Output directory (model or adapter, checkpoint, log, loss curve).", valueName: "dir"))
    var out: String

    @Flag(help: "Train every parameter (default: LoRA, as the paper).") var full = false
    @Option(help: "LoRA rank.") var loraRank = 32
    @Option(help: "LoRA alpha (default: PEFT's default, 8).") var loraAlpha: Double?
    @Option(help: "LoRA dropout on the input of each Linear target's branch (PEFT's lora_dropout; none on the embeddings).")
    var loraDropout = 0.0
    @Option(help: ArgumentHelp("LoRA target modules, comma-separated (PEFT's target_modules; default \(LoRASettings().targetModules.joined(separator: ",")) for Mamba, \(LoRASettings.llamaTargetModules.joined(separator: ",")) for Llama).", valueName: "names"))
    var loraTargets: String?
    @Flag(help: "LoRA: also write the merged model to OUT/merged.") var merge = false
    @Flag(help: "Train the ReMamba objective (selective compression + adaptation).") var remamba = false

    @Option(help: "Peak learning rate.") var lr = 2e-5
    @Option(help: "AdamW decoupled weight decay (not on norms, biases, A_log, D).") var weightDecay = 0.1
    @Option(help: "Clip the global gradient norm to this; 0: no clipping.") var clip = 1.0
    @Option(help: "Sequences accumulated per optimizer step.") var accumulation = 16
    @Option(help: "Linear warm-up steps before the cosine decay.") var warmup = 0
    @Option(help: "Optimizer steps in all.") var steps: Int?
    @Option(help: "Epochs over the data (default 1 unless --steps).") var epochs: Double?
    @Option(help: "Tokens per sequence: text window length; instruction prompts are cut to fit.") var maxLength = 2048
    @Option(help: "Seed of the data order and of any sampling.") var seed: UInt64 = 0
    @Option(help: "Write a checkpoint every N steps.") var saveEvery: Int?
    @Flag(help: "Continue from OUT/checkpoint.safetensors (same options as the stopped run).") var resume = false
    @Option(help: "Scan states kept every this many steps in the backward (the rest are recomputed).") var scanChunk = 64
    @Flag(help: "Recompute each layer's activations in the backward (less memory, one more forward).") var recomputeLayers = false

    func validate() throws {
        if data.isEmpty { throw ValidationError("give at least one --data file") }
        if modelOptions.adapter != nil { throw ValidationError("train starts from --model's weights; --adapter is not supported (merge it first)") }
        if steps != nil && epochs != nil { throw ValidationError("give --steps or --epochs, not both") }
        if let steps, steps < 1 { throw ValidationError("--steps must be ≥ 1, got \(steps)") }
        if let epochs, !(epochs > 0) { throw ValidationError("--epochs must be > 0, got \(epochs)") }
        if !(lr > 0) { throw ValidationError("--lr must be > 0, got \(lr)") }
        if !(weightDecay >= 0) { throw ValidationError("--weight-decay must be ≥ 0, got \(weightDecay)") }
        if !(clip >= 0) { throw ValidationError("--clip must be ≥ 0 (0: no clipping), got \(clip)") }
        if accumulation < 1 { throw ValidationError("--accumulation must be ≥ 1, got \(accumulation)") }
        if warmup < 0 { throw ValidationError("--warmup must be ≥ 0, got \(warmup)") }
        if maxLength < 2 { throw ValidationError("--max-length must be ≥ 2, got \(maxLength)") }
        if let saveEvery, saveEvery < 1 { throw ValidationError("--save-every must be ≥ 1, got \(saveEvery)") }
        if scanChunk < 1 { throw ValidationError("--scan-chunk must be ≥ 1, got \(scanChunk)") }
        if loraRank < 1 { throw ValidationError("--lora-rank must be ≥ 1, got \(loraRank)") }
        if !(loraDropout >= 0 && loraDropout < 1) { throw ValidationError("--lora-dropout must be in [0, 1), got \(loraDropout)") }
        if targetModules?.isEmpty == true { throw ValidationError("--lora-targets: give at least one module name") }
        if full && merge { throw ValidationError("--merge writes a merged LoRA model; with --full the output already is a full model") }
        if full && (loraAlpha != nil || loraDropout != 0 || loraRank != 32 || loraTargets != nil) {
            throw ValidationError("--lora-rank, --lora-alpha, --lora-dropout and --lora-targets configure LoRA; --full trains every parameter")
        }
        _ = try dataFormat()
    }

    func dataFormat() throws -> TrainingDataset.Format {
        switch format {
        case "auto": return .automatic
        case "text": return .text
        default:
            guard let f = InstructionFormat(rawValue: format) else {
                throw ValidationError("--format \(format): expected auto, text, " + InstructionFormat.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return .instruction(f)
        }
    }

    func run() throws {
        do {
            let directory = try modelOptions.openDirectory()
            guard let tokenizerURL = directory.tokenizerURL else {
                throw ValidationError("\(directory.url.path) has no tokenizer.json, which train needs to tokenize --data")
            }
            let tokenizer = try Tokenizer(url: tokenizerURL)
            let examples = try data.flatMap { path in
                try TrainingDataset.load(URL(fileURLWithPath: path), format: dataFormat(), tokenizer: tokenizer, maxLength: maxLength)
            }
            if remamba, !examples.contains(where: { $0.promptLength > 0 }) {
                throw ValidationError("--remamba compresses prompts: give JSONL instruction data (plain text may be mixed in)")
            }
            let lora = loraSettings(llama: directory.configuration.llama != nil)
            let task = try TrainingTask(directory: directory, lora: lora, remamba: remamba, merge: merge,
                                        options: TrainingOptions(scanChunk: scanChunk, recomputeLayers: recomputeLayers), seed: seed)
            if let largest = examples.lazy.flatMap(\.ids).max(), largest >= task.vocabularySize {
                throw ValidationError("the tokenizer gives id \(largest), beyond the model's vocabulary of \(task.vocabularySize): use the model's own tokenizer.json")
            }
            var settings = settings(exampleCount: examples.count)
            settings.dataFingerprint = DataFingerprint.of(examples)
            settings.objective = objectiveDescription(lora)
            let outDirectory = URL(fileURLWithPath: out)
            let state = resume ? try TrainingRun.resumedState(in: outDirectory, settings: settings, like: task.initialParameters)
                               : TrainingState(parameters: task.initialParameters, seed: seed)
            let trainable = task.initialParameters.values.reduce(0) { $0 + $1.count }
            printError("\(examples.count) sequences (\(examples.reduce(0) { $0 + $1.targetCount }) target tokens), "
                       + "\(trainable) trainable parameters, \(settings.totalSteps) steps of \(accumulation)"
                       + (resume ? ", resuming at step \(state.step)" : ""))
            var run = TrainingRun(trainer: Trainer(objective: task.objective, examples: examples, settings: settings, state: state),
                                  directory: outDirectory, saveEvery: saveEvery)
            try run.run { trained in try task.export(trained, outDirectory) }
            printError("wrote \(out): " + (full ? "model.safetensors" : "adapter_model.safetensors, adapter_config.json")
                       + (merge ? ", merged/" : "") + ", checkpoint.safetensors, train_log.jsonl, loss.svg")
        } catch let error as ValidationError { throw error } catch {
            throw CommandFailure(error)
        }
    }

    /// nil with --full; the default targets are the family's (`llama`: attention and MLP Linears).
    func loraSettings(llama: Bool) -> LoRASettings? {
        guard !full else { return nil }
        var s = LoRASettings(rank: loraRank, alpha: loraAlpha ?? 8)
        s.dropout = loraDropout
        s.targetModules = targetModules ?? (llama ? LoRASettings.llamaTargetModules : s.targetModules)
        return s
    }

    /// What is trained, for the resume check.
    func objectiveDescription(_ lora: LoRASettings?) -> String {
        let model = remamba ? "ReMamba objective" : "next-token objective"
        guard let s = lora else { return model + ", every parameter" }
        return model + ", LoRA r \(s.rank) alpha \(s.alpha) dropout \(s.dropout) on " + s.targetModules.joined(separator: ",")
    }

    /// --lora-targets as given (nil: the family's default).
    var targetModules: [String]? {
        loraTargets.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    func settings(exampleCount: Int) -> TrainingSettings {
        let perEpoch = (Double(exampleCount) / Double(accumulation)).rounded(.up)
        var s = TrainingSettings(totalSteps: steps ?? max(1, Int((perEpoch * (epochs ?? 1)).rounded(.up))))
        s.learningRate = lr
        s.weightDecay = weightDecay
        s.maxGradientNorm = clip > 0 ? clip : nil
        s.accumulation = accumulation
        s.warmupSteps = warmup
        s.seed = seed
        return s
    }
}
