import Foundation
import Hummingbird
import HummingbirdTesting
import MambaLM
@testable import MambaServer
import XCTest

/// Load and faults on a live server over loopback (the small CI versions; scripts/soak_serve runs the long soak):
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
        let prompts = Self.prompts(32, round: 0)
        let expected = try Self.soloTexts(service, prompts)
        try await app.test(.live) { client in
            let results = try await Self.round(prompts, port: try XCTUnwrap(client.port))
            for i in prompts.indices where i % 3 != 0 { XCTAssertEqual(results[i] ?? nil, expected[i], "request \(i)") }
            try await client.execute(uri: "/health", method: .get) { XCTAssertEqual($0.status, .ok, "the server is still up") }
        }
    }

    /// The CI soak (scripts/soak_serve runs minutes of it): 6 rounds of 24 concurrent requests of 4 tokens (half
    /// with prompts repeated every round, half new), a third abandoned: every answered text equals its solo greedy
    /// text, and this process's RSS after the last round is within 8 MB of its RSS after the second (the prompt
    /// cache, 1 MiB here, is full by then, and glibc's arenas have grown to the threads' count).
    func testSoakKeepsTextsAndMemory() async throws {
        guard FileManager.default.fileExists(atPath: "/proc/self/status") else { throw XCTSkip("reads the RSS from /proc") }
        var limits = ServerLimits()
        (limits.parallel, limits.cacheMegabytes) = (8, 1)
        let (service, app) = try Self.live(limits)
        let (rounds, requests, maxTokens) = (6, 24, 4)
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            var (solo, answered, rss) = ([String: String](), 0, [Double]())
            for round in 0..<rounds {
                let prompts = Self.prompts(requests, round: round)
                let new = prompts.filter { solo[$0] == nil }
                for (prompt, text) in zip(new, try Self.soloTexts(service, new, maxTokens: maxTokens)) { solo[prompt] = text }
                let results = try await Self.round(prompts, port: port, maxTokens: maxTokens)
                for i in prompts.indices where i % 3 != 0 {
                    XCTAssertEqual(results[i] ?? nil, solo[prompts[i]], "round \(round), request \(i)")
                    answered += 1
                }
                rss.append(try Self.residentMegabytes())
            }
            let growth = rss.last! - rss[1]
            print("soak: \(rounds * requests) requests, \(answered) answered and checked; RSS after each round (MB): "
                  + rss.map { String(format: "%.1f", $0) }.joined(separator: ", ") + String(format: "; growth after round 2: %+.1f MB", growth))
            XCTAssertLessThanOrEqual(growth, 8, "RSS grew over the soak")
        }
    }

    /// `count` prompts: the even ones the same every round, the odd ones new in each.
    static func prompts(_ count: Int, round: Int) -> [String] {
        let words = ["harbour", "sailor", "nets", "dawn", "sea", "boat", "wind", "rope"]
        return (0..<count).map { "The \(words[$0 % 8]) and the \(words[($0 / 8 + 3) % 8]) number \($0.isMultiple(of: 2) ? $0 : 1000 * round + $0)" }
    }

    /// Each prompt's greedy text from the engine alone.
    static func soloTexts(_ service: GenerationQueue, _ prompts: [String], maxTokens: Int = 16) throws -> [String] {
        try prompts.map { prompt in
            try TextGeneration.stream(model: service.model, tokenizer: service.tokenizer, prompt: service.tokenizer.encode(prompt),
                                      parameters: GenerateParameters(maxTokens: maxTokens)) { _ in }.text
        }
    }

    /// All prompts at once over loopback (greedy), even ones streamed, every third abandoned after its first
    /// bytes; the texts of the others by index (nil for the abandoned).
    static func round(_ prompts: [String], port: Int, maxTokens: Int = 16) async throws -> [Int: String?] {
        try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for (i, prompt) in prompts.enumerated() {
                group.addTask { try await RawSocket.onThread {
                    let socket = try RawSocket(port: port)
                    let streamed = i % 2 == 0
                    socket.post("/v1/completions", #"{"prompt": "\#(prompt)", "max_tokens": \#(maxTokens), "stream": \#(streamed)}"#)
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
    }

    /// This process's resident set (VmRSS), in MB.
    static func residentMegabytes() throws -> Double {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try XCTUnwrap(Double(line.split(separator: " ").dropFirst().first ?? "")) / 1024
    }
}
