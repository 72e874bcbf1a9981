import Foundation
import MambaServer
import Tokenization

/// The input as the body of both POST routes: decoded and validated as the server does before generating,
/// then the prompt tokenized (the server's prompt-length check counts these tokens).
enum ServerRequestFuzzing {
    static func run(_ data: Data) {
        let limits = ServerLimits()
        for chat in [false, true] {
            do {
                let v = TrainingDataFuzzing.tokenizer?.vocabularySize ?? 50_280
                let (prompt, parameters) = chat ? try RequestValidation.chatCompletion(data, limits: limits, vocabularySize: v)
                    : try RequestValidation.completion(data, limits: limits, vocabularySize: v)
                _ = TrainingDataFuzzing.tokenizer?.encode(prompt).count
                _ = parameters.stopStrings.count
            } catch {
                _ = error.message
            }
        }
    }
}
