import Tokenization

/// One prompt to complete greedily, with what its prediction line records.
public struct GenerationJob: Sendable {
    public enum Truncation: Sendable {
        /// LongBench's pred.py: over max_length tokens, keep the first and last max_length/2 tokens (decoded,
        /// joined, re-encoded).
        case middle(prompt: String)
        /// L-Eval's baselines: drop words of the document (from the right, or the left for code) until it fits
        /// max_length − max_new_tokens tokens, then build the prompt around it.
        case document(String, build: @Sendable (String) -> String, fromLeft: Bool)
    }

    public var id: String
    public var dataset: String
    public var truncation: Truncation
    public var maxNewTokens: Int
    public var stopStrings: [String] = []
    /// A second, untruncated prompt whose answer is appended as " [fact: …]" (L-Eval sci_fi).
    public var factPrompt: String?
    public var answers: [String]
    public var allClasses: [String]?
    public var length: Int?
    public var depth: Double?

    /// The LongBench (or synthetic) job of one sample.
    public static func longBench(_ sample: LongBenchSample, dataset: LongBenchDataset) -> GenerationJob {
        GenerationJob(id: sample.id, dataset: sample.dataset,
                      truncation: .middle(prompt: LongBenchPrompts.fill(dataset.promptTemplate, context: sample.context, input: sample.input)),
                      maxNewTokens: dataset.maxNewTokens, stopStrings: dataset.stopsAtNewline ? ["\n"] : [],
                      answers: sample.answers, allClasses: sample.allClasses, length: sample.length, depth: sample.depth)
    }

    /// The L-Eval jobs of one document line: one per instruction.
    public static func lEval(_ sample: LEvalSample, line: Int, task: LEvalTask, maxNewTokens: Int) -> [GenerationJob] {
        zip(sample.instructions, sample.outputs).enumerated().map { k, pair in
            let (instruction, output) = pair
            return GenerationJob(id: "\(line)-\(k)", dataset: task.rawValue,
                                 truncation: .document(sample.input, build: { task.prompt(document: $0, instruction: instruction) },
                                                       fromLeft: task.truncatesFromLeft),
                                 maxNewTokens: maxNewTokens, factPrompt: task.factPrompt(instruction: instruction),
                                 answers: [output], allClasses: nil, length: nil, depth: nil)
        }
    }

    /// The prompt tokens under `maxLength`.
    public func promptTokens(tokenizer: Tokenizer, maxLength: Int) -> [Int] {
        switch truncation {
        case .middle(let prompt):
            let ids = tokenizer.encode(prompt)
            guard ids.count > maxLength else { return ids }
            let half = maxLength / 2
            let kept = tokenizer.decode(Array(ids.prefix(half)), skipSpecialTokens: true)
                + tokenizer.decode(Array(ids.suffix(half)), skipSpecialTokens: true)
            return tokenizer.encode(kept)
        case let .document(document, build, fromLeft):
            let budget = maxLength - maxNewTokens
            var text = document, cut = 0
            while tokenizer.encode(text).count > budget {
                let words = PythonText.split(document, separator: " " as Unicode.Scalar)
                let keep = max(budget - cut, 0)
                text = (fromLeft ? Array(words.suffix(keep)) : Array(words.prefix(keep))).joined(separator: " ")
                cut += 250
                if keep == 0 { break }
            }
            return tokenizer.encode(build(text))
        }
    }
}
