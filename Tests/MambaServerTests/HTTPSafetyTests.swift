import Foundation
import Hummingbird
import HummingbirdTesting
import MambaLM
@testable import MambaServer
import XCTest

/// What makes the server safe to expose: the API key, CORS, 404/405 bodies, model lookup, the tokenizer
/// endpoints (llama.cpp's shapes), the Prometheus metrics, and timeouts against slow or idle connections.
final class HTTPSafetyTests: XCTestCase {
    static func app(_ service: GenerationQueue, _ configure: (inout ServerOptions) -> Void = { _ in }) -> some ApplicationProtocol {
        var options = ServerOptions()
        options.logFormat = .none
        configure(&options)
        return Application(router: Routes.router(service, options: options))
    }

    static func error(_ response: TestResponse) throws -> [String: Any] {
        try XCTUnwrap(try ServerTests.object(Data(response.body.readableBytesView))["error"] as? [String: Any])
    }

    func testAPIKey() async throws {
        let service = try ServerTests.service()
        let body = ByteBuffer(string: #"{"prompt": "hi", "max_tokens": 1}"#)
        try await Self.app(service) { $0.apiKey = "s3cret" }.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { XCTAssertEqual($0.status, .ok, "/health is open") }
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"], [.authorization: "s3cret"]] {
                try await client.execute(uri: "/v1/completions", method: .post, headers: headers, body: body) { response in
                    XCTAssertEqual(response.status, .unauthorized)
                    let error = try Self.error(response)
                    XCTAssertEqual(error["code"] as? String, "invalid_api_key")
                    XCTAssertEqual(error["type"] as? String, "invalid_request_error")
                }
            }
            try await client.execute(uri: "/v1/models", method: .get) { XCTAssertEqual($0.status, .unauthorized) }
            try await client.execute(uri: "/metrics", method: .get) { XCTAssertEqual($0.status, .unauthorized) }
            try await client.execute(uri: "/v1/completions", method: .post, headers: [.authorization: "Bearer s3cret"], body: body) {
                XCTAssertEqual($0.status, .ok)
            }
        }
        try await Self.app(service).test(.router) { client in
            try await client.execute(uri: "/v1/models", method: .get) { XCTAssertEqual($0.status, .ok, "no key configured: open") }
        }
    }

    func testCORS() async throws {
        let service = try ServerTests.service()
        try await Self.app(service) { $0.corsOrigin = "https://app.example" }.test(.router) { client in
            let preflight: HTTPFields = [.origin: "https://app.example", .accessControlRequestMethod: "POST",
                                         .accessControlRequestHeaders: "authorization, content-type"]
            try await client.execute(uri: "/v1/chat/completions", method: .options, headers: preflight) { response in
                XCTAssertEqual(response.status, .noContent)
                XCTAssertEqual(response.headers[.accessControlAllowOrigin], "https://app.example")
                XCTAssertTrue(response.headers[.accessControlAllowMethods]?.contains("POST") == true)
                XCTAssertTrue(response.headers[.accessControlAllowHeaders]?.lowercased().contains("authorization") == true)
            }
            try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://app.example"]) { response in
                XCTAssertEqual(response.headers[.accessControlAllowOrigin], "https://app.example")
            }
            try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://evil.example"]) { response in
                XCTAssertNil(response.headers[.accessControlAllowOrigin], "another origin is not allowed")
            }
        }
        try await Self.app(service).test(.router) { client in
            try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://app.example"]) { response in
                XCTAssertNil(response.headers[.accessControlAllowOrigin], "no CORS unless --cors-origin")
            }
        }
    }

    func testNotFoundMethodNotAllowedAndModelLookup() async throws {
        let service = try ServerTests.service()
        try await Self.app(service).test(.router) { client in
            try await client.execute(uri: "/v1/nothing", method: .get) { response in
                XCTAssertEqual(response.status, .notFound)
                XCTAssertEqual(try Self.error(response)["code"] as? String, "not_found")
            }
            try await client.execute(uri: "/v1/completions", method: .get) { response in
                XCTAssertEqual(response.status, .methodNotAllowed)
                XCTAssertEqual(response.headers[.allow], "POST")
                XCTAssertEqual(try Self.error(response)["code"] as? String, "method_not_allowed")
            }
            try await client.execute(uri: "/v1/models/test-model", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let body = try ServerTests.object(Data(response.body.readableBytesView))
                XCTAssertEqual(body["id"] as? String, "test-model")
                XCTAssertEqual(body["object"] as? String, "model")
            }
            try await client.execute(uri: "/v1/models/gpt-4", method: .get) { response in
                XCTAssertEqual(response.status, .notFound)
                XCTAssertEqual(try Self.error(response)["code"] as? String, "model_not_found")
            }
        }
    }

    func testTokenizeAndDetokenize() async throws {
        let service = try ServerTests.service()
        let text = "The old sailor mended the nets"
        let ids = service.tokenizer.encode(text)
        try await Self.app(service).test(.router) { client in
            try await client.execute(uri: "/tokenize", method: .post, body: ByteBuffer(string: #"{"content": "\#(text)"}"#)) { response in
                XCTAssertEqual(try ServerTests.object(Data(response.body.readableBytesView))["tokens"] as? [Int], ids)
            }
            try await client.execute(uri: "/tokenize", method: .post, body: ByteBuffer(string: #"{"content": "\#(text)", "with_pieces": true}"#)) { response in
                let pieces = try XCTUnwrap(try ServerTests.object(Data(response.body.readableBytesView))["tokens"] as? [[String: Any]])
                XCTAssertEqual(pieces.compactMap { $0["id"] as? Int }, ids)
                XCTAssertEqual(pieces.compactMap { $0["piece"] as? String }.joined(), text)
            }
            try await client.execute(uri: "/detokenize", method: .post, body: ByteBuffer(string: #"{"tokens": \#(ids)}"#)) { response in
                XCTAssertEqual(try ServerTests.object(Data(response.body.readableBytesView))["content"] as? String, text)
            }
            try await client.execute(uri: "/detokenize", method: .post, body: ByteBuffer(string: #"{"tokens": [1, -5]}"#)) { response in
                XCTAssertEqual(response.status, .badRequest)
                XCTAssertTrue((try Self.error(response)["message"] as? String)?.contains("tokens[1]") == true)
            }
        }
    }

    func testMetricsCountRequestsAndTokens() async throws {
        let service = try ServerTests.service()
        try await Self.app(service).test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/completions", method: .post,
                                         body: ByteBuffer(string: #"{"prompt": "\#(ServerTests.prompt)", "max_tokens": 3}"#)) { _ in }
            }
            try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: "{bad")) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let text = String(buffer: response.body)
                let prompt = service.tokenizer.encode(ServerTests.prompt).count
                for line in [#"remamba_requests_total{path="/v1/completions",method="POST",status="200"} 2"#,
                             #"remamba_requests_total{path="/v1/completions",method="POST",status="400"} 1"#,
                             "remamba_prompt_tokens_total \(2 * prompt)", "remamba_generated_tokens_total 6",
                             "remamba_time_to_first_token_seconds_count 2", "remamba_queue_depth 0.0"] {
                    XCTAssertTrue(text.contains(line), "missing \(line) in\n\(text)")
                }
            }
        }
    }

    /// Slowloris: 50 connections that never finish their request head are all closed within the idle timeout
    /// (1 s here, + 1.5 s of slack), while a normal request on another connection answers at once; a body that
    /// stalls is cut too.
    func testSlowConnectionsAreClosedWhileOthersAreServed() async throws {
        let service = try ServerTests.service()
        var options = ServerOptions()
        (options.idleTimeoutSeconds, options.bodyTimeoutSeconds, options.logFormat) = (1, 1, .none)
        let app = Server.application(service, host: "127.0.0.1", port: 0, options: options)
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let start = ContinuousClock.now
            var sockets = try (0..<50).map { _ in try RawSocket(port: port) }
            for socket in sockets { socket.send("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: app") }
            let stalledBody = try RawSocket(port: port)
            stalledBody.send("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"prompt\"")
            sockets.append(stalledBody)
            let answered = ContinuousClock.now
            try await client.execute(uri: "/health", method: .get) { XCTAssertEqual($0.status, .ok) }
            let healthSeconds = TextGeneration.seconds(ContinuousClock.now - answered)
            print("a normal request beside 51 stalled connections answered in \(healthSeconds) s")
            XCTAssertLessThan(healthSeconds, 0.5)
            let closed = sockets.map { $0.waitForClose(until: start + .milliseconds(2500)) }
            let elapsed = TextGeneration.seconds(ContinuousClock.now - start)
            print("\(closed.filter { $0 }.count) of \(sockets.count) stalled connections closed after \(elapsed) s")
            XCTAssertEqual(closed.filter { $0 }.count, sockets.count)
            XCTAssertGreaterThanOrEqual(elapsed, 0.9, "not before the timeout")
        }
    }
}
