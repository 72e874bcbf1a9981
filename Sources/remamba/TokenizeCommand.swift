import ArgumentParser
import Foundation
import Tokenization

/// `remamba tokenize`: text → token ids as JSON, with the tokenizer.json of a model (or a file).
/// `--bench-file` measures one-thread encode throughput instead (see docs/TOKENIZER.md).
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode text to token ids with a Hugging Face tokenizer.json; prints JSON.")

    @Option(help: "tokenizer.json, or a model directory that contains one.")
    var tokenizer: String

    @Option(help: "Text to encode; prints a JSON array of ids.")
    var text: String?

    @Option(help: "JSON file with a string (prints an array of ids) or an array of strings (prints an array of id arrays).")
    var input: String?

    @Option(help: "UTF-8 text file whose documents (separated by blank lines) are encoded to measure MB/s on one thread.")
    var benchFile: String?

    @Flag(help: "Leave out the special tokens the post-processor adds (BOS/EOS).")
    var noSpecialTokens = false

    func validate() throws {
        let given = [text != nil, input != nil, benchFile != nil].filter { $0 }.count
        guard given == 1 else { throw ValidationError("give exactly one of --text, --input, --bench-file") }
    }

    func run() throws {
        do {
            let tokenizer = try Tokenizer.load(directory: URL(fileURLWithPath: self.tokenizer))
            if let text {
                print(Self.json(tokenizer.encode(text, addSpecialTokens: !noSpecialTokens)))
            } else if let input {
                try encodeInputFile(input, tokenizer)
            } else if let benchFile {
                try bench(benchFile, tokenizer)
            }
        } catch let error as TokenizerError {
            throw CommandFailure(error)
        }
    }

    private func encodeInputFile(_ path: String, _ tokenizer: Tokenizer) throws {
        let text = try Self.readUTF8(path)
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw CommandFailure(ValidationError("\(path) is not valid JSON: \(error.localizedDescription)"))
        }
        if let single = value as? String {
            print(Self.json(tokenizer.encode(single, addSpecialTokens: !noSpecialTokens)))
        } else if let many = value as? [Any], let strings = many as? [String] {
            let lines = strings.map { Self.json(tokenizer.encode($0, addSpecialTokens: !noSpecialTokens)) }
            print("[" + lines.joined(separator: ",\n") + "]")
        } else {
            throw CommandFailure(ValidationError("\(path) must hold a JSON string or an array of strings"))
        }
    }

    private func bench(_ path: String, _ tokenizer: Tokenizer) throws {
        let text = try Self.readUTF8(path)
        let documents = text.components(separatedBy: "\n\n")
        let bytes = Double(text.utf8.count)
        var seconds: [Double] = []
        var tokens = 0
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            tokens = 0
            for document in documents { tokens += tokenizer.encode(document, addSpecialTokens: !noSpecialTokens).count }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let wholeStart = DispatchTime.now().uptimeNanoseconds
        _ = try Tokenizer.load(directory: URL(fileURLWithPath: self.tokenizer)).encode(text)
        let whole = Double(DispatchTime.now().uptimeNanoseconds - wholeStart) / 1e9
        print(String(format: "text: %.2f MB in %d documents, %d tokens", bytes / 1e6, documents.count, tokens))
        print(String(format: "remamba encode, 1 thread: first pass %.2f MB/s, best of 3 %.2f MB/s",
                     bytes / 1e6 / seconds[0], bytes / 1e6 / seconds.min()!))
        print(String(format: "remamba encode(whole text, fresh tokenizer incl. loading), 1 thread: %.2f MB/s", bytes / 1e6 / whole))
    }

    /// The file as text, refusing bytes that are not UTF-8 (rather than guessing or replacing).
    static func readUTF8(_ path: String) throws -> String {
        do {
            return try TextFile.read(URL(fileURLWithPath: path))
        } catch let error as TokenizerError {
            throw CommandFailure(error)
        }
    }

    static func json(_ ids: [Int]) -> String {
        "[" + ids.map(String.init).joined(separator: ",") + "]"
    }
}
