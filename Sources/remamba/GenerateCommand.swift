import ArgumentParser
import Foundation
import MambaLM
import TensorCore
import Tokenization

/// Sampling options of `generate` (and later `serve`), bridged to `GenerateParameters`.
struct SamplingOptions: ParsableArguments {
    @Option(name: .long, help: "Maximum number of tokens to generate.") var maxTokens = 128
    @Option(name: .long, help: "Sampling temperature; 0 = greedy.") var temperature: Float = 0
    @Option(name: .long, help: "Keep the k most likely tokens (0 = all).") var topK = 0
    @Option(name: .long, help: "Nucleus sampling: keep tokens up to this cumulative probability.") var topP: Float = 1
    @Option(name: .long, help: "Penalty > 1 for tokens already seen (1 = off).") var repetitionPenalty: Float = 1
    @Option(name: .long, help: "Random seed for sampling.") var seed: UInt64 = 0
    @Option(name: .long, help: "Stop when this text appears (repeatable; not included in the output).") var stop: [String] = []
    @Flag(name: .long, help: "Do not stop at the end-of-sequence token.") var ignoreEos = false

    var parameters: GenerateParameters {
        GenerateParameters(maxTokens: maxTokens, temperature: temperature, topK: topK, topP: topP,
                           repetitionPenalty: repetitionPenalty, seed: seed, stopStrings: stop, stopAtEOS: !ignoreEos)
    }

    func validate() throws {
        do { try parameters.validate() } catch { throw ValidationError(error.description) }
    }
}

/// `remamba generate`: a prompt in, streamed text out, then the speed on stderr.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Continue a prompt, streaming the text as it is generated.")

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "The prompt text.") var prompt: String?
    @Option(name: .long, help: "Read the prompt from this UTF-8 file.") var promptFile: String?
    @Option(name: .long, help: "Refuse prompts longer than this many tokens.") var maxPromptTokens = 1_000_000
    @Option(name: .long, help: "Refuse --max-tokens above this (a guard against a runaway request; raise it at will).")
    var maxTokensLimit = 1_000_000
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var remamba: ReMambaOptions
    @Option(name: .long, help: ArgumentHelp("Continue from a state written by --save-state (same model and settings): the prompt is fed after the ids it covers (for ReMamba, uncompressed, as generation continues).", valueName: "file"))
    var loadState: String?
    @Option(name: .long, help: ArgumentHelp("After the prompt, write the state and the token ids it covers (safetensors), to --load-state later.", valueName: "file"))
    var saveState: String?

    func validate() throws {
        if (prompt == nil) == (promptFile == nil) { throw ValidationError("give exactly one of --prompt and --prompt-file") }
        if maxPromptTokens < 1 { throw ValidationError("--max-prompt-tokens must be ≥ 1") }
        if sampling.maxTokens > maxTokensLimit {
            throw ValidationError("--max-tokens \(sampling.maxTokens) is more than --max-tokens-limit \(maxTokensLimit)")
        }
    }

    func run() throws {
        do {
            let text = try promptText()
            let directory = try modelOptions.openDirectory()
            guard let tokenizerURL = directory.tokenizerURL else {
                throw ValidationError("\(directory.url.path): no tokenizer.json, so text cannot be encoded (use `remamba logits --ids` for raw ids)")
            }
            let tokenizer = try Tokenizer(url: tokenizerURL)
            let model = try remamba.loadModel(directory, adapter: modelOptions.openAdapter(), dtype: modelOptions.weightType)
            let ids = tokenizer.encode(text)
            if ids.isEmpty { throw ModelError.emptyPrompt }
            if ids.count > maxPromptTokens { throw ModelError.promptTooLong(length: ids.count, limit: maxPromptTokens) }
            let identity = loadState == nil && saveState == nil ? "" : try ModelIdentity.of(
                directory, adapter: modelOptions.adapter, remamba: remamba.settings(defaults: directory.configuration.compressionDefaults))
            let clock = ContinuousClock()
            let start = clock.now
            var state = model.makeState(), covered = ids
            let logits: Tensor
            if let loadState {
                let saved = try SavedSequence.read(from: URL(fileURLWithPath: loadState), model: identity, like: state)
                state = saved.state
                logits = try model.continueSequence(ids, state: &state)
                covered = saved.ids + ids
            } else {
                logits = try model.prefill(ids, state: &state)
            }
            let promptSeconds = TextGeneration.seconds(clock.now - start)
            if let saveState { try SavedSequence(ids: covered, state: state).write(to: URL(fileURLWithPath: saveState), model: identity) }
            let result = try TextGeneration.stream(model: model, tokenizer: tokenizer, prompt: covered, parameters: sampling.parameters,
                                                   prefilled: (state, logits)) { piece in
                FileHandle.standardOutput.write(Data(piece.text.utf8))
            }
            print("")
            printError(String(format: "[prompt: %d tokens, %.1f tokens/s | generated: %d tokens, %.1f tokens/s | stop: %@]",
                              ids.count, Double(ids.count) / max(promptSeconds, 1e-9), result.tokens.count,
                              result.generationTokensPerSecond, result.stopReason.description))
        } catch let error as ValidationError { throw error } catch {
            throw CommandFailure(error)
        }
    }

    func promptText() throws -> String {
        if let prompt { return prompt }
        let path = promptFile!
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(path): cannot read the prompt file") }
        guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("\(path): the prompt file is not valid UTF-8") }
        return text
    }
}
