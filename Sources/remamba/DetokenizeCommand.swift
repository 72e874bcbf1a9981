import ArgumentParser
import Foundation
import Tokenization

/// `remamba detokenize`: token ids → text, with the tokenizer.json of a model (or a file).
struct Detokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode token ids to text with a Hugging Face tokenizer.json.")

    @Option(help: "tokenizer.json, or a model directory that contains one.")
    var tokenizer: String

    @Option(help: "Comma-separated token ids, e.g. 1,2,3.")
    var ids: String

    @Flag(help: "Leave out special tokens (e.g. <|endoftext|>).")
    var skipSpecialTokens = false

    func run() throws {
        let ids = try parseIDs(ids, argument: "--ids")
        do {
            let tokenizer = try Tokenizer.load(directory: URL(fileURLWithPath: self.tokenizer))
            if let unknown = ids.first(where: { tokenizer.token(for: $0) == nil }) {
                throw ValidationError("--ids: \(unknown) is not a token id of this tokenizer (vocabulary size \(tokenizer.vocabularySize))")
            }
            print(tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens))
        } catch let error as TokenizerError {
            throw CommandFailure(error)
        }
    }
}
