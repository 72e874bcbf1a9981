import Foundation
import Hummingbird
import HummingbirdTesting
import MambaLM
@testable import MambaServer
import XCTest

/// Load and faults on a live server over loopback (the small CI version; scripts/load_test runs the big one):
/// concurrent streamed and non-streamed requests, a third of them abandoned by their clients, the others' text
/// equal to their solo greedy text; an abandoned non-streamed request stops generating.
final class LoadTests: XCTestCase {
    static func live(_ limits: ServerLimits) throws -> (GenerationQueue, some ApplicationProtocol) {
        let service = try ServerTests.service(limits: limits)
        var options = ServerOptions()
        options.logFormat = .none
        return (service, Server.application(service, host: "127.0.0.1", port: 0, options: options))
    }

    func testAbandonedNonStreamedRequestStops() async throws {
        var limits = ServerLimits()
        limits.parallel = 1
        let (service, app) = try Self.live(limits)
        try await app.test(.live) { client in
            let socket = try RawSocket(port: try XCTUnwrap(client.port))
            socket.post("/v1/completions", #"{"prompt": "\#(ServerTests.prompt)", "max_tokens": 4096, "logit_bias": {"0": -100}}"#)
            try await Task.sleep(for: .milliseconds(300))
            socket.disconnect()                                                    // the client goes away
            let start = ContinuousClock.now
            try await client.execute(uri: "/v1/completions", method: .post,
                                     body: ByteBuffer(string: #"{"prompt": "hi", "max_tokens": 2}"#)) { XCTAssertEqual($0.status, .ok) }
            let seconds = TextGeneration.seconds(ContinuousClock.now - start)
            let metrics = service.metrics.text()
            let generated = metrics.split(separator: "\n").first { $0.hasPrefix("remamba_generated_tokens_total ") }
            print("after the abandoned request: the next answered in \(seconds) s; \(generated ?? "")")
            let total = Double(generated?.split(separator: " ").last ?? "") ?? .infinity
            XCTAssertLessThan(total, 4096, "the abandoned generation stopped before its max_tokens")
        }
    }

    func testConcurrentRequestsWithRandomDisconnects() async throws {
        var limits = ServerLimits()
        limits.parallel = 8
        let (service, app) = try Self.live(limits)
        let words = ["harbour", "sailor", "nets", "dawn", "sea", "boat", "wind", "rope"]
        let prompts = (0..<32).map { "The \(words[$0 % 8]) and the \(words[($0 / 8 + 3) % 8]) number \($0)" }
        let expected = try prompts.map { prompt in
            try TextGeneration.stream(model: service.model, tokenizer: service.tokenizer, prompt: service.tokenizer.encode(prompt),
                                      parameters: GenerateParameters(maxTokens: 16)) { _ in }.text
        }
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let results = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for (i, prompt) in prompts.enumerated() {
                    group.addTask { try await RawSocket.onThread {
                        let socket = try RawSocket(port: port)
                        let streamed = i % 2 == 0
                        socket.post("/v1/completions", #"{"prompt": "\#(prompt)", "max_tokens": 16, "stream": \#(streamed)}"#)
                        if i % 3 == 0 {                                                   // abandoned early
                            _ = socket.read(atLeast: 1, until: .now + .seconds(30))
                            return (i, nil)
                        }
                        let response = try XCTUnwrap(socket.response(until: .now + .seconds(60)))
                        XCTAssertEqual(response.status, 200)
                        if !streamed {
                            return (i, try (ServerTests.object(Data(response.body.utf8))["choices"] as? [[String: Any]])?.first?["text"] as? String)
                        }
                        let chunks = ServerTests.events(Data(response.body.utf8)).dropLast()
                        return (i, try chunks.map { try (ServerTests.object(Data($0.utf8))["choices"] as? [[String: Any]])?.first?["text"] as? String ?? "" }.joined())
                    } }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            for i in prompts.indices where i % 3 != 0 { XCTAssertEqual(results[i] ?? nil, expected[i], "request \(i)") }
            try await client.execute(uri: "/health", method: .get) { XCTAssertEqual($0.status, .ok, "the server is still up") }
        }
    }
}
