import Foundation
import MambaLM

/// A request body as the routes read it before they generate: decoded (errors name the field), the prompt
/// text built, the sampling fields checked against the server's limits. The routes decode through
/// `decode`; the fuzz target `server-request` runs the whole of it on arbitrary bytes.
public enum RequestValidation {
    /// The body decoded as `T`, or OpenAI's 400 error naming the field.
    static func decode<T: Decodable>(_: T.Type, from body: Data) throws(APIError) -> T {
        do { return try JSONDecoder().decode(T.self, from: body) } catch { throw APIError.undecodable(error) }
    }

    /// POST /v1/completions without the generation: the prompt and the checked parameters.
    public static func completion(_ body: Data, limits: ServerLimits) throws(APIError) -> (prompt: String, parameters: GenerateParameters) {
        let request = try decode(CompletionRequest.self, from: body)
        return (request.prompt, try request.sampling.parameters(limits: limits))
    }

    /// POST /v1/chat/completions without the generation: the conversation as one prompt, and the parameters.
    public static func chatCompletion(_ body: Data, limits: ServerLimits) throws(APIError) -> (prompt: String, parameters: GenerateParameters) {
        let request = try decode(ChatCompletionRequest.self, from: body)
        return (try ChatPrompt.text(request.messages), try request.sampling.parameters(limits: limits, extraStops: [ChatPrompt.stop]))
    }
}
