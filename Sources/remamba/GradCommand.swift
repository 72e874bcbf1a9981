import ArgumentParser
import Foundation
import MambaLM
import MambaTraining
import TensorCore

/// `remamba grad`: the mean next-token cross-entropy of --ids (position t predicts ids[t + 1], as
/// `labels = input_ids` in transformers; the last position has no target) and its gradient with respect to
/// every parameter, written to a safetensors file: `loss` (F32 [1]) and `grad.<checkpoint name>` per
/// parameter, in the checkpoint's shape (a tied lm_head: one gradient, under backbone.embeddings.weight).
/// Other tools check the backward through this interface: keep it stable.
struct Grad: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the loss of --ids and the gradient of every parameter to a safetensors file (Mamba-1).")

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "Comma-separated token ids (at least 2), e.g. 1,2,3.") var ids: String
    @Option(name: .long, help: "Output safetensors file (written atomically).") var out: String
    @Option(name: .long, help: "Scan states kept every this many steps (the rest are recomputed).") var scanChunk = 64

    func validate() throws {
        if scanChunk < 1 { throw ValidationError("--scan-chunk must be ≥ 1, got \(scanChunk)") }
        if modelOptions.adapter != nil {
            throw ValidationError("grad differentiates the checkpoint's own parameters; --adapter is not supported (merge the adapter into a checkpoint first)")
        }
    }

    func run() throws {
        let tokens = try parseIDs(ids, argument: "--ids")
        if tokens.count < 2 {
            throw ValidationError("--ids: the loss needs at least 2 ids (each position predicts the next), got \(tokens.count)")
        }
        do {
            let parameters = try MambaParameters(directory: modelOptions.openDirectory())
            let v = parameters.configuration.vocabularySize
            if let position = tokens.firstIndex(where: { $0 < 0 || $0 >= v }) {
                throw ModelError.tokenOutOfRange(id: tokens[position], position: position, vocabularySize: v)
            }
            let (loss, gradients) = MambaGradients.lossAndGradients(parameters, ids: tokens,
                                                                    options: TrainingOptions(scanChunk: scanChunk))
            var tensors: [(String, SafetensorsWriter.Value)] = [("loss", .float32(Tensor(shape: [1], data: [Float(loss)])))]
            tensors += gradients.named.map { ("grad.\($0.0)", .float32($0.1)) }
            try SafetensorsWriter.write(tensors, to: URL(fileURLWithPath: out))
        } catch let error as ValidationError { throw error } catch {
            throw CommandFailure(error)
        }
    }
}
