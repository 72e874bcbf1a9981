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
                let (prompt, parameters) = chat ? try RequestValidation.chatCompletion(data, limits: limits)
                    : try RequestValidation.completion(data, limits: limits)
                _ = TrainingDataFuzzing.tokenizer?.encode(prompt).count
                _ = parameters.stopStrings.count
            } catch {
                _ = error.message
            }
        }
    }
}
