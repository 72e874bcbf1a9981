import ArgumentParser
import Foundation
import MambaLM
import MambaTraining
import TensorCore

/// `remamba grad`: the mean next-token cross-entropy of --ids (position t predicts ids[t + 1], as
/// `labels = input_ids` in transformers; the last position has no target) and its gradient with respect to
/// every parameter, written to a safetensors file: `loss` (F32 [1]) and `grad.<checkpoint name>` per
/// parameter, in the checkpoint's shape (a tied lm_head: one gradient, under the embeddings' name).
/// The family (Mamba, Mamba-2 or Llama) comes from config.json. Other tools check the backward through this
/// interface: keep it stable.
/// With --remamba (a ReMamba or ReMamba2 checkpoint): the training loss of ReMamba, the first --prompt-length ids
/// being the prompt that stage 1 compresses, and the gradients of the base's and ReMamba's parameters
/// (Q/K/V_proj, layers.N.mixer.ret_bias.param), through both stages (`ReMambaGradients`).
struct Grad: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the loss of --ids and the gradient of every parameter to a safetensors file (Mamba-1, Mamba-2, ReMamba, ReMamba2, Llama).")

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "Comma-separated token ids (at least 2), e.g. 1,2,3.") var ids: String
    @Option(name: .long, help: "Output safetensors file (written atomically).") var out: String
    @Option(name: .long, help: "Scan states kept every this many steps (the rest are recomputed; Mamba-2: rounded up to a multiple of chunk_size).")
    var scanChunk = 64
    @OptionGroup var remamba: ReMambaOptions
    @Option(name: .long, help: "With --remamba: the first N ids are the prompt that stage 1 compresses (default: all of them).")
    var promptLength: Int?
    @Flag(name: .long, help: "With --remamba: score only the response (the positions from the prompt's last on), as fine-tuning does.")
    var responseOnly = false
    @Flag(name: .long, inversion: .prefixedNo,
          help: "With --remamba: multiply ∂loss/∂α by α once more, as the official Mamba-1 training backward does (default: on for Mamba-1, off for Mamba-2).")
    var scaleImportanceGradient: Bool?

    func validate() throws {
        if scanChunk < 1 { throw ValidationError("--scan-chunk must be ≥ 1, got \(scanChunk)") }
        if modelOptions.adapter != nil {
            throw ValidationError("grad differentiates the checkpoint's own parameters; --adapter is not supported (merge the adapter into a checkpoint first)")
        }
        if !remamba.remamba && (promptLength != nil || responseOnly || scaleImportanceGradient != nil) {
            throw ValidationError("--prompt-length, --response-only and --[no-]scale-importance-gradient need --remamba")
        }
        if remamba.appendCompressed { throw ValidationError("grad: --append-compressed is not trainable; use the replace placement") }
        if let promptLength, promptLength < 1 { throw ValidationError("--prompt-length must be ≥ 1, got \(promptLength)") }
    }

    func run() throws {
        try validateOutputs([out])
        let tokens = try parseIDs(ids, argument: "--ids")
        if tokens.count < 2 {
            throw ValidationError("--ids: the loss needs at least 2 ids (each position predicts the next), got \(tokens.count)")
        }
        do {
            let directory = try modelOptions.openDirectory()
            if directory.configuration.llama != nil && remamba.remamba {
                throw ValidationError("grad: --remamba compresses Mamba states; \(directory.url.path) is a Llama model")
            }
            let options = TrainingOptions(scanChunk: scanChunk)
            let loss: Double, named: [(String, Tensor)]
            if directory.configuration.llama != nil {
                (loss, named) = try gradients(LlamaParameters.self, directory, tokens, options)
            } else if let settings = remamba.settings(defaults: directory.configuration.compressionDefaults) {
                (loss, named) = directory.configuration.mamba2 != nil
                    ? try reMambaGradients(Mamba2Parameters.self, directory, tokens, settings, options)
                    : try reMambaGradients(MambaParameters.self, directory, tokens, settings, options)
            } else if directory.configuration.mamba2 != nil {
                (loss, named) = try gradients(Mamba2Parameters.self, directory, tokens, options)
            } else {
                (loss, named) = try gradients(MambaParameters.self, directory, tokens, options)
            }
            var tensors: [(String, SafetensorsWriter.Value)] = [("loss", .float32(Tensor(shape: [1], data: [Float(loss)])))]
            tensors += named.map { ("grad.\($0.0)", .float32($0.1)) }
            try SafetensorsWriter.write(tensors, to: URL(fileURLWithPath: out))
        } catch let error as ValidationError { throw error } catch {
            throw CommandFailure(error)
        }
    }

    /// The next-token loss and gradients of a plain model of family `Base` (Mamba-1, Mamba-2, Llama).
    func gradients<Base: TrainableModel>(_: Base.Type, _ directory: ModelDirectory, _ tokens: [Int],
                                         _ options: TrainingOptions) throws -> (Double, [(String, Tensor)]) {
        let parameters = try Base(directory: directory)
        try checkTokens(tokens, vocabularySize: parameters.vocabularySize)
        let result = parameters.lossAndGradients(ids: tokens, targets: MambaGradients.nextTokenTargets(tokens), options: options)
        return (result.loss, result.gradients.named)
    }

    /// The ReMamba training loss and gradients over a base of family `Base`.
    func reMambaGradients<Base: TrainableBackbone>(_: Base.Type, _ directory: ModelDirectory, _ tokens: [Int],
                                                   _ settings: CompressionSettings,
                                                   _ options: TrainingOptions) throws -> (Double, [(String, Tensor)]) {
        let parameters = try ReMambaParameters<Base>(directory: directory)
        try checkTokens(tokens, vocabularySize: parameters.base.vocabularySize)
        let prompt = promptLength ?? tokens.count
        if prompt > tokens.count { throw ValidationError("--prompt-length \(prompt) exceeds the \(tokens.count) ids") }
        var targets = MambaGradients.nextTokenTargets(tokens)
        if responseOnly { for t in 0..<(prompt - 1) { targets[t] = nil } }
        let result = try ReMambaGradients.lossAndGradients(parameters, ids: tokens, promptLength: prompt, targets: targets,
                                                           settings: settings, scaleImportanceGradient: scaleImportanceGradient,
                                                           options: options)
        return (result.loss, result.gradients.named)
    }

    func checkTokens(_ tokens: [Int], vocabularySize v: Int) throws {
        if let position = tokens.firstIndex(where: { $0 < 0 || $0 >= v }) {
            throw ModelError.tokenOutOfRange(id: tokens[position], position: position, vocabularySize: v)
        }
    }
}
