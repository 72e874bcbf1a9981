import Foundation
import Tokenization

/// Training examples from one file: plain text for pre-training, or JSONL instruction data.
public enum TrainingDataset {
    public enum Format: Equatable, Sendable {
        /// *.jsonl / *.json: instruction data, the format told by each line's keys; anything else: text.
        case automatic
        case text
        case instruction(InstructionFormat)
    }

    public static func load(_ url: URL, format: Format = .automatic, tokenizer: Tokenizer, maxLength: Int) throws -> [TrainingExample] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TrainingDataError.unreadable(path: url.path, reason: FileManager.default.fileExists(atPath: url.path) ? "not readable" : "no such file")
        }
        let text = try TextFile.decode(data, source: url.path)
        let isJSONLines = ["jsonl", "json"].contains(url.pathExtension.lowercased())
        let examples: [TrainingExample]
        switch format {
        case .instruction(let f):
            examples = try instructionExamples(text, path: url.path, format: f, tokenizer: tokenizer, maxLength: maxLength)
        case .automatic where isJSONLines:
            examples = try instructionExamples(text, path: url.path, format: nil, tokenizer: tokenizer, maxLength: maxLength)
        case .text, .automatic:
            examples = TextWindows.examples(tokens: tokenizer.encode(text, addSpecialTokens: false), maxLength: maxLength)
        }
        if examples.isEmpty { throw TrainingDataError.empty(path: url.path, reason: "fewer than 2 tokens or no records") }
        return examples
    }

    /// One example per non-blank line; `format` nil: detected from each line's keys.
    static func instructionExamples(_ text: String, path: String, format: InstructionFormat?, tokenizer: Tokenizer,
                                    maxLength: Int) throws -> [TrainingExample] {
        var examples: [TrainingExample] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if line.allSatisfy(\.isWhitespace) { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw TrainingDataError.malformedLine(path: path, line: number, reason: "not a JSON object")
            }
            guard let lineFormat = format ?? InstructionFormat.detect(keys: Set(object.keys)) else {
                throw TrainingDataError.unknownFormat(path: path, line: number, keys: object.keys.sorted())
            }
            switch lineFormat.split(object) {
            case .failure(let missing):
                throw TrainingDataError.malformedLine(path: path, line: number,
                                                      reason: "\"\(missing.key)\" is missing or not a string (\(lineFormat.rawValue) format)")
            case .success(let pair):
                let example = try InstructionExamples.example(prompt: pair.prompt, response: pair.response,
                                                              tokenizer: tokenizer, maxLength: maxLength)
                guard example.targetCount > 0 else {
                    throw TrainingDataError.malformedLine(path: path, line: number, reason: "prompt and response are both empty")
                }
                examples.append(example)
            }
        }
        return examples
    }
}
