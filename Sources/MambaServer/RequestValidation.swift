import Foundation
import MambaLM

/// A request body as the routes read it before they generate: its fields parsed (errors name the field),
/// the prompt text built, the sampling fields checked against the server's limits. The fuzz target
/// `server-request` runs the whole of it on arbitrary bytes; the routes run the same steps
/// (`RequestFields`, the request types, `SamplingFields.parameters`) with their service at hand.
public enum RequestValidation {
    /// POST /v1/completions without the generation: the text prompts and the first choice's parameters.
    public static func completion(_ body: Data, limits: ServerLimits, vocabularySize: Int) throws(APIError)
        -> (prompt: String, parameters: GenerateParameters) {
        var fields = try RequestFields(body)
        let request = try CompletionRequest(&fields)
        let texts = request.prompts.map { prompt -> String in if case .text(let text) = prompt { return text } else { return "" } }
        return (texts.joined(separator: "\n"),
                try request.sampling.parameters(limits: limits, vocabularySize: vocabularySize, minimumMaxTokens: request.echo ? 0 : 1,
                                                logprobs: request.logprobs, choice: 0))
    }

    /// POST /v1/chat/completions without the generation: the conversation as one prompt, and the parameters.
    public static func chatCompletion(_ body: Data, limits: ServerLimits, vocabularySize: Int) throws(APIError)
        -> (prompt: String, parameters: GenerateParameters) {
        var fields = try RequestFields(body)
        let request = try ChatCompletionRequest(&fields)
        return (try ChatPrompt.text(request.messages),
                try request.sampling.parameters(limits: limits, vocabularySize: vocabularySize, extraStops: [ChatPrompt.stop],
                                                logprobs: request.logprobs, choice: 0))
    }
}
