import Foundation
import Hummingbird
import MambaLM

/// The HTTP API, OpenAI-compatible (as llama.cpp's and mlx-lm's servers):
///   GET  /health               {"status": "ok"}
///   GET  /v1/models            the one model served
///   POST /v1/completions       prompt → text; "stream": true for server-sent events ending "data: [DONE]"
///   POST /v1/chat/completions  messages → assistant message (the plain-text conversation of `ChatPrompt`)
/// Errors are OpenAI's JSON ({"error": {message, type, param, code}}) with a 4xx status naming the field.
public enum Routes {
    public static func router(_ service: GenerationQueue) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("health") { _, _ in json(["status": "ok"]) }
        router.get("v1/models") { _, _ in
            json(ModelList(data: [ModelList.Entry(id: service.modelName, created: service.startedAt)]))
        }
        router.post("v1/completions") { request, _ in
            await respond { () async throws(APIError) -> Response in
                let body = try await decode(CompletionRequest.self, request, service.limits)
                let ids = try service.promptIDs(body.prompt, param: "prompt")
                let parameters = try body.sampling.parameters(limits: service.limits)
                let stream = service.generate(prompt: ids, parameters: parameters)
                let (id, created, model) = ("cmpl-" + randomID(), Int(Date().timeIntervalSince1970), service.modelName)
                let response: @Sendable (String, GenerationResult?) -> CompletionResponse = { text, result in
                    CompletionResponse(id: id, created: created, model: model,
                                       choices: [.init(text: text, finishReason: result.map { finishReason($0.stopReason) })],
                                       usage: result.map(Usage.init))
                }
                if body.sampling.stream == true {
                    return eventStream(stream) { _, event in
                        switch event {
                        case .text(let piece): return response(piece, nil)
                        case .finished(let result): return response("", result)
                        }
                    }
                }
                let result = try await collect(stream)
                return json(response(result.text, result))
            }
        }
        router.post("v1/chat/completions") { request, _ in
            await respond { () async throws(APIError) -> Response in
                let body = try await decode(ChatCompletionRequest.self, request, service.limits)
                let ids = try service.promptIDs(try ChatPrompt.text(body.messages), param: "messages")
                let parameters = try body.sampling.parameters(limits: service.limits, extraStops: [ChatPrompt.stop])
                let stream = service.generate(prompt: ids, parameters: parameters)
                let (id, created, model) = ("chatcmpl-" + randomID(), Int(Date().timeIntervalSince1970), service.modelName)
                if body.sampling.stream == true {
                    return eventStream(stream) { index, event in
                        let role = index == 0 ? "assistant" : nil              // the first delta names the role
                        let choice: ChatCompletionResponse.Choice
                        var usage: Usage?
                        switch event {
                        case .text(let piece): choice = .init(delta: .init(role: role, content: piece))
                        case .finished(let result):
                            choice = .init(delta: .init(role: role), finishReason: finishReason(result.stopReason))
                            usage = Usage(result)
                        }
                        return ChatCompletionResponse(id: id, object: "chat.completion.chunk", created: created, model: model,
                                                      choices: [choice], usage: usage)
                    }
                }
                let result = try await collect(stream)
                let message = ChatCompletionRequest.Message(role: "assistant", content: result.text)
                return json(ChatCompletionResponse(id: id, object: "chat.completion", created: created, model: model,
                                                   choices: [.init(message: message, finishReason: finishReason(result.stopReason))],
                                                   usage: Usage(result)))
            }
        }
        return router
    }

    /// The handler's response, or its error as OpenAI's error body.
    static func respond(_ handler: () async throws(APIError) -> Response) async -> Response {
        do { return try await handler() } catch { return errorResponse(error) }
    }

    static func errorResponse(_ error: APIError) -> Response {
        Response(status: .init(code: error.status), headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: error.body)))
    }

    static func json(_ value: some Encodable) -> Response {
        let data = (try? ServerJSON.encoder.encode(value)) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The body, at most `limits.maxBodyBytes`, decoded as JSON.
    static func decode<T: Decodable>(_: T.Type, _ request: Request, _ limits: ServerLimits) async throws(APIError) -> T {
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: limits.maxBodyBytes) } catch {
            throw APIError(status: 413, message: "request body larger than \(limits.maxBodyBytes) bytes", type: "invalid_request_error")
        }
        return try RequestValidation.decode(T.self, from: Data(buffer.readableBytesView))
    }

    /// Waits for the whole generation.
    static func collect(_ stream: AsyncThrowingStream<GenerationQueue.Event, Error>) async throws(APIError) -> GenerationResult {
        do {
            for try await event in stream { if case .finished(let result) = event { return result } }
        } catch {
            throw APIError(status: 500, message: "generation failed: \(error)", type: "server_error")
        }
        throw APIError(status: 500, message: "generation ended without a result", type: "server_error")
    }

    /// Server-sent events: one "data: <json>" per event, then "data: [DONE]"; a failure mid-stream is sent
    /// as an error event (the status line is already gone).
    static func eventStream<Chunk: Encodable>(_ stream: AsyncThrowingStream<GenerationQueue.Event, Error>,
                                              _ chunk: @escaping @Sendable (Int, GenerationQueue.Event) -> Chunk) -> Response {
        let body = ResponseBody { writer in
            func send(_ data: Data) async throws {
                try await writer.write(ByteBuffer(bytes: Array("data: ".utf8) + Array(data) + Array("\n\n".utf8)))
            }
            do {
                var index = 0
                for try await event in stream {
                    try await send(try ServerJSON.encoder.encode(chunk(index, event)))
                    index += 1
                }
            } catch {
                try await send(APIError(status: 500, message: "generation failed: \(error)", type: "server_error").body)
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    static func randomID() -> String { String(UInt64.random(in: 0...UInt64.max), radix: 16) }
}

extension GenerationQueue {
    /// The prompt's token ids, refused when empty or over the limit (the error names `param`).
    func promptIDs(_ text: String, param: String) throws(APIError) -> [Int] {
        let ids = tokenizer.encode(text)
        if ids.isEmpty { throw APIError.invalid("\(param): the prompt is empty", param: param) }
        if ids.count > limits.maxPromptTokens {
            throw APIError.invalid("\(param): \(ids.count) tokens, more than this server's limit of \(limits.maxPromptTokens)",
                                   param: param, code: "context_length_exceeded")
        }
        return ids
    }
}
