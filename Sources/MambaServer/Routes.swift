import Foundation
import Hummingbird
import MambaLM

/// The HTTP API, OpenAI-compatible (as llama.cpp's and vLLM's servers):
///   GET  /health               {"status": "ok"} (never needs the API key)
///   GET  /metrics              Prometheus text
///   GET  /v1/models            the one model served; GET /v1/models/{id} that model
///   POST /v1/completions       prompt(s) → text (CompletionRoute); "stream": true for server-sent events
///   POST /v1/chat/completions  messages → assistant message (ChatRoute)
///   POST /tokenize, /detokenize  llama.cpp's shapes (TokenizerRoutes)
/// Errors are OpenAI's JSON ({"error": {message, type, param, code}}) with a 4xx status naming the field.
public enum Routes {
    /// Every route and its methods (for 404 / 405 and the metrics' route label).
    static let table: [(pattern: String, methods: [String])] = [
        ("/health", ["GET"]), ("/metrics", ["GET"]), ("/v1/models", ["GET"]), ("/v1/models/{id}", ["GET"]),
        ("/v1/completions", ["POST"]), ("/v1/chat/completions", ["POST"]), ("/tokenize", ["POST"]), ("/detokenize", ["POST"]),
    ]

    /// The route pattern a path falls under (`/v1/models/x` → `/v1/models/{id}`), or the path itself.
    static func pattern(of path: String) -> String {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        if trimmed.hasPrefix("/v1/models/"), trimmed.count > "/v1/models/".count { return "/v1/models/{id}" }
        return trimmed
    }

    static func methods(of path: String) -> [String]? {
        let pattern = pattern(of: path)
        return table.first { $0.pattern == pattern }?.methods
    }

    /// `watchesDisconnects` (a live server's connections) cancels a non-streamed generation whose client closes
    /// its connection; without it (`HummingbirdTesting`'s router tests) a request body is a plain buffer.
    public static func router(_ service: GenerationQueue, options: ServerOptions = ServerOptions(),
                              watchesDisconnects: Bool = false) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RequestLogMiddleware(format: options.logFormat, metrics: service.metrics))
        if let origin = options.corsOrigin {
            router.add(middleware: CORSMiddleware(allowOrigin: origin == "*" ? .all : .oneOf(origin),
                                                  allowHeaders: [.accept, .authorization, .contentType, .origin],
                                                  allowMethods: [.get, .post, .options]))
        }
        if let key = options.apiKey { router.add(middleware: APIKeyMiddleware(key: key)) }
        router.add(middleware: RouteErrorMiddleware())
        router.get("health") { _, _ in json(["status": "ok"]) }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: service.metrics.text())))
        }
        let entry = ModelEntry(id: service.modelName, created: service.startedAt)
        router.get("v1/models") { _, _ in json(ModelList(data: [entry])) }
        router.get("v1/models/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard id == service.modelName else {
                return errorResponse(APIError(status: 404, message: "The model '\(id)' does not exist; this server serves '\(service.modelName)'",
                                              type: "invalid_request_error", param: "model", code: "model_not_found"))
            }
            return json(entry)
        }
        router.post("v1/completions") { request, _ in
            await generation(request, service, options, watchesDisconnects) { fields in
                await respond { () async throws(APIError) in try await CompletionRoute.respond(fields, service) }
            }
        }
        router.post("v1/chat/completions") { request, _ in
            await generation(request, service, options, watchesDisconnects) { fields in
                await respond { () async throws(APIError) in try await ChatRoute.respond(fields, service) }
            }
        }
        router.post("tokenize") { request, _ in
            await respond { () async throws(APIError) in try TokenizerRoutes.tokenize(try await body(request, service, options), service) }
        }
        router.post("detokenize") { request, _ in
            await respond { () async throws(APIError) in try TokenizerRoutes.detokenize(try await body(request, service, options), service) }
        }
        return router
    }

    /// Reads a generation request's body and runs `handler` on it. With `watch`, a non-streamed request is
    /// cancelled (with the generation it waits for) when its client closes the connection (Hummingbird's
    /// inbound-close watch, after which the connection is closed once answered); a streamed one notices a gone
    /// client on its next write instead, so it runs outside the watch.
    static func generation(_ request: Request, _ service: GenerationQueue, _ options: ServerOptions, _ watch: Bool,
                           _ handler: @escaping @Sendable (RequestFields) async -> Response) async -> Response {
        enum Outcome: Sendable { case answered(Response), streamed(RequestFields), refused(APIError) }
        func read(_ request: Request) async -> Outcome {
            do {
                let fields = try await body(request, service, options)
                var peek = fields
                if (try? peek.bool("stream")) == true { return .streamed(fields) }
                return .answered(await handler(fields))
            } catch { return .refused(error) }
        }
        let outcome: Outcome
        if watch {
            do {
                outcome = try await request.body.consumeWithCancellationOnInboundClose { body in
                    var request = request
                    request.body = body
                    return await read(request)
                }
            } catch {
                return errorResponse(APIError(status: 499, message: "the client closed the connection", type: "server_error"))
            }
        } else {
            outcome = await read(request)
        }
        var response: Response
        switch outcome {
        case .answered(let answer): response = answer
        case .streamed(let fields): response = await handler(fields)
        case .refused(let error): response = errorResponse(error)
        }
        // Hummingbird closes a watched connection after its response: say so, so that clients do not reuse it.
        if watch { response.headers[.connection] = "close" }
        return response
    }

    /// The handler's response, or its error as OpenAI's error body.
    static func respond(_ handler: () async throws(APIError) -> Response) async -> Response {
        do { return try await handler() } catch { return errorResponse(error) }
    }

    static func errorResponse(_ error: APIError) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if error.status == 408 { headers[.connection] = "close" }
        return Response(status: .init(code: error.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: error.body)))
    }

    static func json(_ value: some Encodable) -> Response {
        let data = (try? ServerJSON.encoder.encode(value)) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The body's fields: at most `limits.maxBodyBytes` (else 413), complete within the body timeout (else 408).
    static func body(_ request: Request, _ service: GenerationQueue, _ options: ServerOptions) async throws(APIError) -> RequestFields {
        let limit = service.limits.maxBodyBytes
        let timeout = options.bodyTimeoutSeconds
        let outcome: Result<ByteBuffer, APIError> = await withTaskGroup(of: Result<ByteBuffer, APIError>?.self) { group in
            group.addTask {
                var request = request
                do { return .success(try await request.collectBody(upTo: limit)) } catch {
                    return .failure(APIError(status: 413, message: "request body larger than \(limit) bytes", type: "invalid_request_error"))
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                return Task.isCancelled ? nil : .failure(APIError(status: 408, message: "request body not complete within \(timeout) s",
                                                                   type: "invalid_request_error", code: "timeout"))
            }
            let first = await group.next()!
            group.cancelAll()
            return first!
        }
        return try RequestFields(Data(outcome.get().readableBytesView))
    }

    static func randomID() -> String { String(UInt64.random(in: 0...UInt64.max), radix: 16) }
}

extension GenerationQueue {
    /// A prompt's token ids, refused when empty, over the limit, or holding ids outside the vocabulary (the
    /// error names `param` and, for a list of prompts, the index).
    func promptIDs(_ prompt: PromptInput, param: String, index: Int? = nil) throws(APIError) -> [Int] {
        let at = index.map { "\(param)[\($0)]" } ?? param
        let ids: [Int]
        switch prompt {
        case .text(let text): ids = tokenizer.encode(text)
        case .ids(let given):
            ids = given
            if let bad = ids.firstIndex(where: { !(0..<model.vocabularySize).contains($0) }) {
                throw APIError.invalid("\(at)[\(bad)]: token id \(ids[bad]) is outside the vocabulary (0..<\(model.vocabularySize))", param: param)
            }
        }
        if ids.isEmpty { throw APIError.invalid("\(at): the prompt is empty", param: param) }
        if ids.count > limits.maxPromptTokens {
            throw APIError.invalid("\(at): \(ids.count) tokens, more than this server's limit of \(limits.maxPromptTokens)",
                                   param: param, code: "context_length_exceeded")
        }
        return ids
    }
}
