import ArgumentParser
import Foundation
import OutputFiles
import Tokenization

/// `remamba train-tokenizer`: trains a GPT-NeoX-style byte-level BPE tokenizer.json on text files,
/// with the semantics of Python `tokenizers`' BpeTrainer (see docs/TOKENIZER.md, "Training").
struct TrainTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-tokenizer",
        abstract: "Train a byte-level BPE tokenizer.json (NFC, GPT-2 split, ByteLevel) on text files.")

    @Option(help: ArgumentHelp("Training text, repeatable. *.jsonl: one JSON object per line, its \"text\" field is a document; anything else: UTF-8 text.",
                               valueName: "file"))
    var input: [String]

    @Option(help: "Vocabulary size to reach: special tokens + 256 byte symbols + merges.")
    var vocabSize: Int

    @Option(help: "Never merge a pair that occurs fewer times than this.")
    var minFrequency = 2

    @Option(help: ArgumentHelp("Special token, repeatable, ids 0… in order (default: <|endoftext|> and <|padding|>).",
                               valueName: "token"))
    var specialToken: [String] = []

    @Flag(help: "Plain text files are one document each (default: each line, with its newline, is one, as `tokenizers`' train(files) reads them).")
    var wholeFile = false

    @Option(help: "Where to write tokenizer.json (written to a temporary file, then renamed).")
    var out: String

    var specialTokens: [String] { specialToken.isEmpty ? ["<|endoftext|>", "<|padding|>"] : specialToken }

    func validate() throws {
        guard !input.isEmpty else { throw ValidationError("give at least one --input") }
        if let empty = specialTokens.firstIndex(of: "") { throw ValidationError("--special-token #\(empty + 1) is empty") }
        let smallest = 256 + Set(specialTokens).count
        guard vocabSize >= smallest else {
            throw ValidationError("--vocab-size \(vocabSize) is smaller than the 256 byte symbols plus \(Set(specialTokens).count) special tokens (\(smallest))")
        }
        guard minFrequency >= 0 else { throw ValidationError("--min-frequency must not be negative") }
    }

    func run() throws {
        try validateOutputs([out])
        let start = Date()
        var counter = WordCounter()
        for path in input {
            try TrainingText.count(path, wholeFile: wholeFile, into: &counter)
            printError(String(format: "counted %@: %.1f MB so far, %d words, %d distinct (%.1f s)",
                              path, Double(counter.byteCount) / 1e6, counter.wordCount, counter.uniqueWordCount,
                              Date().timeIntervalSince(start)))
        }
        let trainer = BPETrainer(vocabularySize: vocabSize, minFrequency: minFrequency, specialTokens: specialTokens)
        var lastReport = Date.distantPast
        let trained = trainer.train(words: counter) { progress in
            // One line a second at most (the trainer reports every 500 merges).
            guard Date().timeIntervalSince(lastReport) >= 1 else { return }
            lastReport = Date()
            printError("merges \(progress.merges), vocabulary \(progress.vocabularySize)/\(progress.targetVocabularySize)")
        }
        do { try OutputFile.write(trained.jsonData(), to: out) } catch { throw CommandFailure(error) }
        let seconds = Date().timeIntervalSince(start)
        let reason = trained.tokens.count < vocabSize ? " (no pair left with frequency ≥ \(minFrequency))" : ""
        printError(String(format: "wrote %@: %d tokens%@, %d merges, %.1f s (%.2f MB/s)", out, trained.tokens.count,
                          reason, trained.merges.count, seconds, Double(counter.byteCount) / 1e6 / seconds))
    }
}

/// Reading the training files into a `WordCounter`, with errors that name the file (and line).
enum TrainingText {
    static func count(_ path: String, wholeFile: Bool, into counter: inout WordCounter) throws {
        let text: String
        do {
            text = try TextFile.read(URL(fileURLWithPath: path))
        } catch TokenizerError.unreadableFile(let path, let reason) {
            throw CommandFailure(ValidationError("cannot read training file \(path): \(reason)"))
        } catch let error as TokenizerError {
            throw CommandFailure(error)
        }
        if path.hasSuffix(".jsonl") {
            try countJSONLines(text, path: path, into: &counter)
        } else if wholeFile {
            counter.add(text)
        } else {
            counter.addLines(of: text)
        }
    }

    private struct Document: Decodable {
        var text: String
    }

    /// One JSON object per line with a string "text"; blank lines are skipped.
    private static func countJSONLines(_ text: String, path: String, into counter: inout WordCounter) throws {
        let decoder = JSONDecoder()
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy(\.isWhitespace) { continue }
            do {
                counter.add(try decoder.decode(Document.self, from: Data(line.utf8)).text)
            } catch DecodingError.keyNotFound {
                throw CommandFailure(ValidationError("\(path):\(lineNumber): the JSON object has no \"text\" field"))
            } catch DecodingError.typeMismatch(_, let context) where !context.codingPath.isEmpty {
                throw CommandFailure(ValidationError("\(path):\(lineNumber): \"text\" is not a string"))
            } catch DecodingError.valueNotFound {
                throw CommandFailure(ValidationError("\(path):\(lineNumber): \"text\" is null"))
            } catch {
                throw CommandFailure(ValidationError("\(path):\(lineNumber): not a JSON object: \(line.prefix(80))"))
            }
        }
    }
}
