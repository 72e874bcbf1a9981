import ArgumentParser
import Foundation
import MambaLM
import OutputFiles
import TensorCore

/// `remamba logits`: logits as one Float32 tensor `logits` in a safetensors file. Plain: one row per
/// id [L, V]. With --remamba: the first --prompt-length ids are the prompt, compressed; the file holds
/// one row per stage-2 position, then one row per remaining id fed one at a time as in generation.
/// Other tools check this engine through this interface: keep it stable.
struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write the logits of --ids to a safetensors file (tensor `logits`, [rows, V]).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var remamba: ReMambaOptions

    @Option(name: .long, help: "Comma-separated token ids, e.g. 1,2,3.") var ids: String
    @Option(name: .long, help: "With --remamba: how many of the ids form the prompt (default: all).") var promptLength: Int?
    @Option(name: .long, help: "Output safetensors file (written atomically; a device such as /dev/null or - is streamed).") var out: String
    @Option(name: .long, help: "With --remamba: write stage 1's decisions as JSON (selected, importance, alpha, stage2_length).")
    var trace: String?

    func validate() throws {
        if promptLength != nil && !remamba.remamba { throw ValidationError("--prompt-length needs --remamba") }
        if trace != nil && !remamba.remamba { throw ValidationError("--trace needs --remamba") }
        if let promptLength, promptLength < 1 { throw ValidationError("--prompt-length must be ≥ 1, got \(promptLength)") }
    }

    func run() throws {
        try validateOutputs([out, trace])
        let tokens = try parseIDs(ids, argument: "--ids")
        if let promptLength, promptLength > tokens.count {
            throw ValidationError("--prompt-length \(promptLength) is more than the \(tokens.count) ids given")
        }
        do {
            let model = try remamba.loadModel(modelOptions.openDirectory(), adapter: modelOptions.openAdapter(), dtype: modelOptions.weightType)
            var outputs: [(path: String, data: Data)] = []
            let logits: Tensor
            if let model = model as? any ReMambaTraceable {
                let n = promptLength ?? tokens.count
                let (rows, traceJSON) = try model.logitsWithTrace(prompt: Array(tokens[0..<n]), fed: Array(tokens[n...]))
                logits = rows
                if let trace { outputs.append((trace, traceJSON)) }
            } else if let llama = model as? LlamaModel {
                if tokens.isEmpty { throw ModelError.emptyPrompt }
                logits = try llama.forward(tokens)
            } else {
                guard let plain = model as? any Backbone else { throw ValidationError("logits: unsupported model") }
                if tokens.isEmpty { throw ModelError.emptyPrompt }
                try plain.checkTokens(tokens)
                var state = plain.makeState()
                logits = plain.logits(plain.hiddenStatesChunked(plain.embed(tokens), state: &state, keep: .all))
            }
            // Everything is computed before anything is written, and the files are written together: an error
            // leaves no partial output (OutputFile).
            try OutputFile.write([(out, try SafetensorsWriter.encode([("logits", .float32(logits))]))] + outputs)
        } catch let error as ValidationError { throw error } catch {
            throw CommandFailure(error)
        }
    }
}

/// ReMamba's side of `logits --remamba`, whatever its backbone.
protocol ReMambaTraceable {
    func logitsWithTrace(prompt: [Int], fed: [Int]) throws -> (Tensor, Data)
}

extension ReMambaModel: ReMambaTraceable {
    func logitsWithTrace(prompt: [Int], fed: [Int]) throws -> (Tensor, Data) {
        try base.checkTokens(fed)
        let stage2 = try runStage1(for: prompt)
        var state = makeState()
        var rows = [base.logits(runStage2(stage2, state: &state, keep: .all))]
        for id in fed { rows.append(step(id, state: &state).reshaped([1, vocabularySize])) }
        let c = stage2.compressed
        let trace: [String: Any] = [
            "selected": c.selected, "importance": c.importance.map(Double.init), "alpha": c.alpha.map(Double.init),
            "stage2_length": c.plan.stage2Length,
        ]
        return (Tensor.concatenateRows(rows), try JSONSerialization.data(withJSONObject: trace, options: [.sortedKeys]))
    }
}
