import Foundation
import Hummingbird
import HummingbirdTesting
import MambaLM
@testable import MambaServer
import Tokenization
import XCTest

/// The HTTP API against the engine itself: a completion (whole or streamed) is exactly the text
/// `TextGeneration` gives for the same prompt and parameters, chat goes through `ChatPrompt`, and bad requests
/// get OpenAI's error body with a 4xx status that names the field.
final class ServerTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func service(_ model: String = "Tests/Fixtures/demo-random", limits: ServerLimits = ServerLimits()) throws -> GenerationQueue {
        let directory = try ModelDirectory(root.appendingPathComponent(model))
        return GenerationQueue(model: try ModelLoader.load(directory), tokenizer: try Tokenizer(url: directory.tokenizerURL!),
                               modelName: "test-model", limits: limits)
    }

    /// POSTs `body` to `uri` of an application over `service`; returns the status and the body's bytes.
    static func post(_ service: GenerationQueue, _ uri: String, _ body: String) async throws -> (Int, Data) {
        try await post(service, uri, Data(body.utf8))
    }

    static func post(_ service: GenerationQueue, _ uri: String, _ body: Data) async throws -> (Int, Data) {
        let app = Application(router: Routes.router(service))
        return try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(bytes: body)) { response in
                (response.status.code, Data(response.body.readableBytesView))
            }
        }
    }

    static func object(_ data: Data) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any], String(decoding: data, as: UTF8.self))
    }

    /// The data lines of a server-sent event stream.
    static func events(_ data: Data) -> [String] {
        String(decoding: data, as: UTF8.self).components(separatedBy: "\n\n").filter { !$0.isEmpty }.map {
            $0.hasPrefix("data: ") ? String($0.dropFirst(6)) : "not an event: \($0)"
        }
    }

    static let prompt = "The old sailor mended the nets by the harbour"

    func reference(_ service: GenerationQueue, _ text: String, _ parameters: GenerateParameters) throws -> GenerationResult {
        try TextGeneration.stream(model: service.model, tokenizer: service.tokenizer, prompt: service.tokenizer.encode(text),
                                  parameters: parameters) { _ in }
    }

    func testCompletionIsTheEnginesText() async throws {
        let service = try Self.service()
        for (temperature, seed) in [(0, 0), (0.9, 7)] as [(Float, UInt64)] {
            let (status, data) = try await Self.post(service, "/v1/completions", """
                {"model": "x", "prompt": "\(Self.prompt)", "max_tokens": 12, "temperature": \(temperature), "seed": \(seed), "user": "ignored"}
                """)
            XCTAssertEqual(status, 200)
            let body = try Self.object(data)
            let choice = try XCTUnwrap((body["choices"] as? [[String: Any]])?.first)
            let expected = try reference(service, Self.prompt, GenerateParameters(maxTokens: 12, temperature: temperature, seed: seed))
            XCTAssertEqual(choice["text"] as? String, expected.text)
            XCTAssertEqual(choice["finish_reason"] as? String, expected.stopReason == .maxTokens ? "length" : "stop")
            XCTAssertEqual(body["object"] as? String, "text_completion")
            XCTAssertEqual(body["model"] as? String, "test-model")
            let usage = try XCTUnwrap(body["usage"] as? [String: Any])
            XCTAssertEqual(usage["prompt_tokens"] as? Int, expected.promptTokenCount)
            XCTAssertEqual(usage["completion_tokens"] as? Int, expected.tokens.count)
            XCTAssertEqual(usage["total_tokens"] as? Int, expected.promptTokenCount + expected.tokens.count)
            XCTAssertEqual(body["seed"] as? Int, Int(seed), "the seed is returned")
        }
    }

    func testStreamedCompletionAddsUpToTheSameText() async throws {
        let service = try Self.service()
        let (status, data) = try await Self.post(service, "/v1/completions",
                                                 #"{"prompt": "\#(Self.prompt)", "max_tokens": 20, "stream": true}"#)
        XCTAssertEqual(status, 200)
        let events = Self.events(data)
        XCTAssertEqual(events.last, "[DONE]")
        let chunks = try events.dropLast().map { try Self.object(Data($0.utf8)) }
        let choices = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
        let text = choices.compactMap { $0["text"] as? String }.joined()
        XCTAssertEqual(text, try reference(service, Self.prompt, GenerateParameters(maxTokens: 20)).text)
        XCTAssertTrue(choices.dropLast().allSatisfy { $0["finish_reason"] is NSNull }, "null until the last chunk")
        XCTAssertNotNil(choices.last?["finish_reason"] as? String)
        XCTAssertTrue(chunks.allSatisfy { $0["usage"] == nil }, "usage only with stream_options.include_usage")
    }

    func testChatCompletionRunsTheConversationPrompt() async throws {
        let service = try Self.service()
        let messages = [ChatCompletionRequest.Message(role: "system", content: "Be brief."),
                        ChatCompletionRequest.Message(role: "user", content: "Where is the harbour?")]
        let prompt = try ChatPrompt.text(messages)
        XCTAssertEqual(prompt, "Be brief.\n\nUser: Where is the harbour?\n\nAssistant:")
        let expected = try reference(service, prompt, GenerateParameters(maxTokens: 16, stopStrings: [ChatPrompt.stop]))
        let request = #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Where is the harbour?"}], "max_tokens": 16"#
        let (status, data) = try await Self.post(service, "/v1/chat/completions", request + "}")
        XCTAssertEqual(status, 200)
        let body = try Self.object(data)
        XCTAssertEqual(body["object"] as? String, "chat.completion")
        let message = try XCTUnwrap(((body["choices"] as? [[String: Any]])?.first?["message"]) as? [String: String])
        XCTAssertNotNil(body["seed"] as? Int)
        XCTAssertEqual(message, ["role": "assistant", "content": expected.text])

        let (_, streamed) = try await Self.post(service, "/v1/chat/completions", request + #", "stream": true}"#)
        let events = Self.events(streamed)
        XCTAssertEqual(events.last, "[DONE]")
        let deltas = try events.dropLast().map { try XCTUnwrap(((Self.object(Data($0.utf8))["choices"] as? [[String: Any]])?.first?["delta"]) as? [String: String]) }
        XCTAssertEqual(deltas.first?["role"], "assistant")
        XCTAssertEqual(deltas.compactMap { $0["content"] }.joined(), expected.text)
    }

    /// The default model answers the passkey prompt through the server as through `remamba generate`.
    func testDefaultModelRetrievesThePasskeyOverHTTP() async throws {
        let service = try Self.service("models/remamba-fortunes-4m")
        let prompt = "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information there.\\n\\nThe pass key is 27185. Remember it. 27185 is the pass key. The old sailor mended the nets by the harbour before dawn.\\n\\nQuestion: What is the pass key?\\nAnswer:"
        let (status, data) = try await Self.post(service, "/v1/completions", #"{"prompt": "\#(prompt)", "max_tokens": 8}"#)
        XCTAssertEqual(status, 200)
        let choice = try XCTUnwrap((try Self.object(data)["choices"] as? [[String: Any]])?.first)
        XCTAssertEqual(choice["text"] as? String, " 27185")
        XCTAssertEqual(choice["finish_reason"] as? String, "stop")
    }

    func testBadRequestsNameTheProblem() async throws {
        var limits = ServerLimits()
        limits.maxPromptTokens = 6
        limits.maxBodyBytes = 4096
        let service = try Self.service(limits: limits)
        let cases: [(String, String, Int, String?, String)] = [
            ("/v1/completions", "{not json", 400, nil, "not valid JSON"),
            ("/v1/completions", #"{"max_tokens": 4}"#, 400, nil, "missing field prompt"),
            ("/v1/completions", #"{"prompt": 5}"#, 400, "prompt", "prompt: expected a string"),
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": 0}"#, 400, "max_tokens", "max_tokens"),
            ("/v1/completions", #"{"prompt": "hi", "max_tokens": 5000}"#, 400, "max_tokens", "4096"),
            ("/v1/completions", #"{"prompt": "hi", "temperature": -1}"#, 400, nil, "temperature"),
            ("/v1/completions", #"{"prompt": "hi", "top_p": 1.5}"#, 400, nil, "top"),
            ("/v1/completions", #"{"prompt": "hi", "n": 17}"#, 400, "n", "between 1 and 16"),
            ("/v1/completions", #"{"prompt": "hi", "stop": ["", "x"]}"#, 400, nil, "empty stop string"),
            ("/v1/completions", #"{"prompt": ""}"#, 400, "prompt", "empty"),
            ("/v1/completions", #"{"prompt": "\#(Self.prompt) and further"}"#, 400, "prompt", "limit of 6"),
            ("/v1/chat/completions", #"{"messages": []}"#, 400, "messages", "at least one"),
            ("/v1/chat/completions", #"{"messages": [{"role": "robot", "content": "hi"}]}"#, 400, "messages", "messages[0].role"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user"}]}"#, 400, nil, "messages[0].content"),
            ("/v1/completions", "{\"prompt\": \"" + String(repeating: "a", count: 5000) + "\"}", 413, nil, "larger than 4096"),
        ]
        for (uri, body, status, param, words) in cases {
            let (code, data) = try await Self.post(service, uri, body)
            XCTAssertEqual(code, status, body)
            let error = try XCTUnwrap(try Self.object(data)["error"] as? [String: Any], body)
            let message = error["message"] as? String ?? ""
            XCTAssertTrue(message.contains(words), "\(body): \(message)")
            if let param { XCTAssertEqual(error["param"] as? String, param, body) } else { XCTAssertNotNil(error["param"], "param: null") }
            XCTAssertEqual(error["type"] as? String, "invalid_request_error")
        }
        // Invalid UTF-8 in the body.
        let (code, data) = try await Self.post(service, "/v1/completions", Data([0x7B, 0x22, 0x70, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D]))
        XCTAssertEqual(code, 400)
        XCTAssertNotNil(try Self.object(data)["error"])
    }

    func testModelsAndHealth() async throws {
        let service = try Self.service()
        let app = Application(router: Routes.router(service))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/models", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let body = try Self.object(Data(response.body.readableBytesView))
                XCTAssertEqual(((body["data"] as? [[String: Any]])?.first?["id"]) as? String, "test-model")
            }
            try await client.execute(uri: "/health", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
            }
            try await client.execute(uri: "/v1/nothing", method: .get) { response in
                XCTAssertEqual(response.status, .notFound)
            }
        }
    }
}
