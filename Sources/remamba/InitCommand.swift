import ArgumentParser
import Foundation
import MambaLM
import OutputFiles
import Tokenization

/// `remamba init`: a new model directory with freshly initialised weights, the starting point of
/// pre-training from scratch (`remamba train --full`).
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a model directory with freshly initialised weights (as transformers initialises Mamba).")

    @Option(help: ArgumentHelp("config.json of the new model (Mamba or Mamba2, Hugging Face or state-spaces layout; or Llama).", valueName: "file"))
    var config: String

    @Option(help: ArgumentHelp("tokenizer.json to copy into the model directory.", valueName: "file"))
    var tokenizer: String?

    @Flag(help: "Also create ReMamba's modules (Query, Key, Value; Θ = ret_bias at 0).")
    var remamba = false

    @Option(help: "Seed of the initial weights.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("The new model directory (must not exist yet).", valueName: "dir"))
    var out: String

    func run() throws {
        do {
            let output = URL(fileURLWithPath: out)
            guard !FileManager.default.fileExists(atPath: output.path) else {
                throw ValidationError("--out \(out) already exists: give a new directory")
            }
            let configuration = try ModelConfiguration.load(URL(fileURLWithPath: config))
            printWarnings(of: configuration)
            let vocabularySize: Int
            switch configuration.architecture {
            case .mamba(let c): vocabularySize = c.vocabularySize
            case .mamba2(let c): vocabularySize = c.vocabularySize
            case .llama(let c):
                if remamba { throw ValidationError("--remamba: ReMamba's modules belong to Mamba models, and \(config) is a Llama") }
                vocabularySize = c.vocabularySize
            }
            var files: [(name: String, data: Data)] = [("config.json", try Data(contentsOf: URL(fileURLWithPath: config)))]
            if let tokenizer {
                let data = try Data(contentsOf: URL(fileURLWithPath: tokenizer))
                let parsed = try Tokenizer(data: data, path: tokenizer)
                guard parsed.vocabularySize <= vocabularySize else {
                    throw ValidationError("\(tokenizer) has \(parsed.vocabularySize) tokens, more than vocab_size \(vocabularySize) of \(config)")
                }
                files.append(("tokenizer.json", data))
            }
            try ModelFootprint(configuration.architecture).verifyFits(path: config, matrices: .f32)   // before allocating them
            let weights = ModelInitialization.weights(configuration, includeReMamba: remamba, seed: seed)
            try ModelDirectoryWriter.write(files: files, tensors: weights.tensors.sorted { $0.key < $1.key }.map { ($0.key, .float32($0.value)) },
                                           to: output)
            let parameters = weights.tensors.values.reduce(0) { $0 + $1.count }
            print("wrote \(out): \(parameters) parameters (seed \(seed))")
        } catch let error as ValidationError {
            throw error
        } catch {
            throw CommandFailure(error)
        }
    }
}
