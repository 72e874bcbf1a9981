import Foundation
import MambaTraining
import Tokenization

/// The input as a training file, read as `remamba train --data` reads it: as .jsonl (each line an
/// instruction record of any format) and as plain text, tokenized into examples of at most 64 tokens.
enum TrainingDataFuzzing {
    static let tokenizer = try? Tokenizer(url: FuzzScratch.fixtures.appendingPathComponent("demo-random/tokenizer.json"))

    static func run(_ data: Data) {
        guard let tokenizer else { return }
        let folder = FuzzScratch.folder("training", files: ["data.jsonl": data, "data.txt": data])
        for name in ["data.jsonl", "data.txt"] {
            do {
                let examples = try TrainingDataset.load(folder.appendingPathComponent(name), tokenizer: tokenizer, maxLength: 64)
                _ = examples.reduce(0) { $0 + $1.targetCount }
            } catch {
                _ = "\(error)"
            }
        }
    }
}
