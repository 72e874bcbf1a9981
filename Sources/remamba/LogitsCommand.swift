import ArgumentParser
import Foundation
import MambaLM
import TensorCore

/// `remamba logits`: the logits of every position of the given ids, as one Float32 tensor `logits`
/// of shape [L, V] in a safetensors file. Other tools check this engine through it: keep it stable.
struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write the logits [L, V] of every position of --ids to a safetensors file.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Comma-separated token ids, e.g. 1,2,3.")
    var ids: String

    @Option(name: .long, help: "Output safetensors file (written atomically).")
    var out: String

    func run() throws {
        let tokens = try parseIDs(ids, argument: "--ids")
        if tokens.isEmpty { throw CommandFailure(ModelError.emptyPrompt) }
        do {
            let model = try ModelLoader.load(modelOptions.openDirectory())
            let logits = try LogitsComputation.logits(model: model, ids: tokens)
            try SafetensorsWriter.write([("logits", .float32(logits))], to: URL(fileURLWithPath: out))
        } catch let error as ValidationError { throw error } catch {
            throw CommandFailure(error)
        }
    }
}

enum LogitsComputation {
    /// Every position's logits of a plain model, from a fresh state.
    static func logits(model: any LanguageModel, ids: [Int]) throws -> Tensor {
        guard let mamba = model as? MambaModel else {
            var state = model.makeState()
            var rows: [Tensor] = []
            for id in ids { rows.append(model.step(id, state: &state).reshaped([1, model.vocabularySize])) }
            return Tensor.concatenateRows(rows)
        }
        return try mamba.forward(ids)
    }
}
