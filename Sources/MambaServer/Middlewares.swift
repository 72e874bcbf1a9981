import Foundation
import Hummingbird
import MambaLM
import Synchronization

/// `Authorization: Bearer <key>` on every route but /health (and CORS preflights), else 401 with OpenAI's body.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" || request.method == .options { return try await next(request, context) }
        guard request.headers[.authorization] == "Bearer " + key else {
            let given = request.headers[.authorization] == nil ? "no Authorization header" : "a wrong API key"
            var response = Routes.errorResponse(APIError(status: 401, message: "Incorrect or missing API key: the request has \(given); send Authorization: Bearer <key>",
                                                         type: "invalid_request_error", code: "invalid_api_key"))
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }
}

/// Unknown routes get 404 and known routes with another method 405 (with `Allow`), both with OpenAI's body.
struct RouteErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do { return try await next(request, context) } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path
            guard let methods = Routes.methods(of: path) else {
                return Routes.errorResponse(APIError(status: 404, message: "no route \(request.method) \(path)", type: "invalid_request_error",
                                                     code: "not_found"))
            }
            var response = Routes.errorResponse(APIError(status: 405, message: "\(path) does not take \(request.method); it takes \(methods.joined(separator: ", "))",
                                                         type: "invalid_request_error", code: "method_not_allowed"))
            response.headers[.allow] = methods.joined(separator: ", ")
            return response
        }
    }
}

/// One log line per request when its response is written (a stream's at its end): method, path, status,
/// prompt/completion tokens, duration, user; and the request counted in the metrics.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let format: ServerOptions.LogFormat
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let record = RequestLog()
        var response = try await RequestLog.$current.withValue(record) { try await next(request, context) }
        let (method, path, status) = (request.method.rawValue, request.uri.path, response.status.code)
        let (format, metrics) = (format, metrics)
        metrics.request(path: Routes.methods(of: path) == nil ? "unmatched" : Routes.pattern(of: path), method: method, status: status)
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            defer { Self.log(format, method: method, path: path, status: status, fields: record.all, seconds: TextGeneration.seconds(ContinuousClock.now - start)) }
            try await body.write(writer)
        }
        return response
    }

    static func log(_ format: ServerOptions.LogFormat, method: String, path: String, status: Int, fields: [String: String], seconds: Double) {
        let duration = String(format: "%.3f", seconds)
        let line: String
        switch format {
        case .none: return
        case .text:
            line = "\(method) \(path) \(status) \(duration)s" + fields.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        case .json:
            var object: [String: Any] = ["method": method, "path": path, "status": status, "duration_s": Double(duration)!]
            for (key, value) in fields { object[key] = Int(value) ?? value as Any }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// What a handler learns about its request (tokens, user), for its log line. The handler finds it as
/// `RequestLog.current`; a streamed body keeps its own reference (it is written outside the handler's task).
final class RequestLog: Sendable {
    @TaskLocal static var current: RequestLog?
    private let fields = Mutex<[String: String]>([:])
    func set(_ key: String, _ value: String) { fields.withLock { $0[key] = value } }
    var all: [String: String] { fields.withLock { $0 } }
}
