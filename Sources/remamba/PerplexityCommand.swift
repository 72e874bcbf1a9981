import ArgumentParser
import Foundation
import MambaEval
import MambaLM
import Tokenization

/// `remamba perplexity`: how well a model predicts a text file (windows of --window tokens, each from a
/// fresh state). Compares weight types on the same text: `--dtype q8` against the stored weights.
struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "perplexity",
        abstract: "Perplexity of a text file: exp(mean negative log-likelihood per token).")

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "UTF-8 text file to score.") var data: String
    @Option(name: .long, help: "Tokens per window (each window starts from a fresh state).") var window = 512
    @Option(name: .long, help: "Only the first N tokens of the text.") var maxTokens: Int?
    @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false

    func validate() throws {
        if window < 2 { throw ValidationError("--window must be ≥ 2, got \(window)") }
        if let maxTokens, maxTokens < 2 { throw ValidationError("--max-tokens must be ≥ 2, got \(maxTokens)") }
    }

    func run() throws {
        do {
            let directory = try modelOptions.openDirectory()
            guard let tokenizerURL = directory.tokenizerURL else { throw ValidationError("\(modelOptions.model): no tokenizer.json, so --data cannot be encoded") }
            let tokenizer = try Tokenizer(url: tokenizerURL)
            guard let text = try? String(contentsOfFile: data, encoding: .utf8) else { throw ValidationError("--data \(data): not a readable UTF-8 text file") }
            var ids = tokenizer.encode(text)
            if let maxTokens { ids = Array(ids.prefix(maxTokens)) }
            guard ids.count >= 2 else { throw ValidationError("--data \(data): \(ids.count) token(s); at least 2 are needed") }
            let model = try ModelLoader.load(directory, adapter: modelOptions.openAdapter(), dtype: modelOptions.weightType)
            let result = try Perplexity.evaluate(model: model, ids: ids, window: window)
            if json {
                let object: [String: Any] = ["model": modelOptions.model, "dtype": modelOptions.dtype ?? "stored", "data": data,
                                             "tokens": result.predictedTokens, "mean_nll": result.meanNegativeLogLikelihood,
                                             "perplexity": result.perplexity, "window": window]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            } else {
                print(String(format: "perplexity %.4f (mean NLL %.5f nats over %d predicted tokens, windows of %d)",
                             result.perplexity, result.meanNegativeLogLikelihood, result.predictedTokens, window))
            }
        } catch let error as ValidationError { throw error } catch { throw CommandFailure(error) }
    }
}
