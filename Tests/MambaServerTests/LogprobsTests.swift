import Foundation
import MambaLM
@testable import MambaServer
import TensorCore
import Tokenization
import XCTest

/// Log-probabilities over HTTP against references: an echoed prompt's token log-probabilities equal the
/// log-softmax of `transformers`' logits (the fixtures of scripts/fixtures/mamba1.py) and of the engine's own
/// `remamba logits` (Backbone.forward), to 1e-4; lm-eval's scoring request gets what lm-eval reads; generated
/// tokens' log-probabilities are those of the distribution they were drawn from.
final class LogprobsTests: XCTestCase {
    static let fixtures = ServerTests.root.appendingPathComponent("Tests/Fixtures")
    static let tolerance = 1e-4

    /// A server over the transformers fixture model mamba1/tiny_a (vocabulary 251) with the demo tokenizer
    /// (only used to spell tokens; the prompts are token ids).
    static func tinyService() throws -> GenerationQueue {
        let directory = try ModelDirectory(fixtures.appendingPathComponent("mamba1/tiny_a"))
        let tokenizer = try Tokenizer(url: fixtures.appendingPathComponent("demo-random/tokenizer.json"))
        return GenerationQueue(model: try ModelLoader.load(directory), tokenizer: tokenizer, modelName: "tiny_a")
    }

    /// log softmax(row)[index], in Double.
    static func logSoftmax(_ row: ArraySlice<Float>, _ index: Int) -> Double {
        let maximum = Double(row.max()!)
        return Double(row[row.startIndex + index]) - maximum - log(row.reduce(0) { $0 + exp(Double($1) - maximum) })
    }

    static func choices(_ data: Data) throws -> [[String: Any]] {
        try XCTUnwrap(try ServerTests.object(data)["choices"] as? [[String: Any]], String(decoding: data, as: UTF8.self))
    }

    func testEchoedPromptLogprobsEqualTransformersLogSoftmax() async throws {
        let service = try Self.tinyService()
        let reference = try SafetensorsFile(path: Self.fixtures.appendingPathComponent("mamba1/tiny_a.outputs.safetensors").path)
        for length in [7, 64] {
            let ids = try reference.integers("input_ids.L\(length)")
            let logits = try reference.tensor("logits.L\(length)")                      // transformers, [L, V]
            let body = #"{"prompt": \#(ids), "max_tokens": 0, "echo": true, "logprobs": 3}"#
            let (status, data) = try await ServerTests.post(service, "/v1/completions", body)
            XCTAssertEqual(status, 200, String(decoding: data, as: UTF8.self))
            let choice = try XCTUnwrap(try Self.choices(data).first)
            let logprobs = try XCTUnwrap(choice["logprobs"] as? [String: Any])
            let tokenLogprobs = try XCTUnwrap(logprobs["token_logprobs"] as? [Any])
            XCTAssertEqual(tokenLogprobs.count, ids.count)
            XCTAssertTrue(tokenLogprobs[0] is NSNull, "the first prompt token has no log-probability")
            XCTAssertTrue((logprobs["top_logprobs"] as? [Any])?.first is NSNull)
            var largest = 0.0
            for i in 1..<ids.count {
                let got = try XCTUnwrap(tokenLogprobs[i] as? Double)
                largest = max(largest, abs(got - Self.logSoftmax(logits.row(i - 1), ids[i])))
            }
            print("tiny_a L=\(length): echoed prompt logprobs vs transformers log-softmax, max |Δ| = \(largest)")
            XCTAssertLessThanOrEqual(largest, Self.tolerance)
            let tops = try XCTUnwrap(logprobs["top_logprobs"] as? [Any])
            for i in 1..<ids.count {
                // Keys are token spellings (several of this vocabulary's byte tokens spell U+FFFD, so they merge);
                // the best entry is the reference's most likely token.
                let top = try XCTUnwrap(tops[i] as? [String: Double])
                let row = logits.row(i - 1)
                let best = Self.logSoftmax(row, Sampler.argmax(Array(row)))
                XCTAssertEqual(top.values.max()!, best, accuracy: Self.tolerance)
            }
            XCTAssertEqual(choice["text"] as? String, service.tokenizer.decode(ids), "echo returns the prompt")
            XCTAssertEqual(choice["finish_reason"] as? String, "length")
            XCTAssertEqual((logprobs["text_offset"] as? [Int])?.first, 0)
        }
    }

    /// `remamba logits` writes Backbone.forward's rows; the server's echo reports their log-softmax.
    func testEchoedPromptLogprobsEqualTheEnginesLogits() async throws {
        let service = try ServerTests.service()
        let ids = service.tokenizer.encode(ServerTests.prompt)
        let plain = try XCTUnwrap(service.model as? any Backbone)
        let logits = try plain.forward(ids)
        let (_, data) = try await ServerTests.post(service, "/v1/completions", #"{"prompt": "\#(ServerTests.prompt)", "max_tokens": 0, "echo": true, "logprobs": 0}"#)
        let tokenLogprobs = try XCTUnwrap((try Self.choices(data).first?["logprobs"] as? [String: Any])?["token_logprobs"] as? [Any])
        var largest = 0.0
        for i in 1..<ids.count { largest = max(largest, abs((tokenLogprobs[i] as! Double) - Self.logSoftmax(logits.row(i - 1), ids[i]))) }
        print("demo-random: echoed prompt logprobs vs remamba logits, max |Δ| = \(largest)")
        XCTAssertLessThanOrEqual(largest, Self.tolerance)
    }

    /// lm-eval's local-completions loglikelihood request: token-id prompts (context + continuation) in one list,
    /// max_tokens 1, logprobs 1, echo; it sums token_logprobs[ctxlen:-1] and calls the continuation greedy when
    /// every top_logprobs entry's best key is the token. Compared with the log-likelihood computed directly.
    func testLMEvalScoringRequest() async throws {
        let service = try ServerTests.service()
        let plain = try XCTUnwrap(service.model as? any Backbone)
        let context = service.tokenizer.encode("The old sailor mended the nets")
        let continuations = [service.tokenizer.encode(" by the harbour"), service.tokenizer.encode(" with great care")]
        let prompts = continuations.map { context + $0 }
        let body = #"{"model": "m", "prompt": \#(prompts), "temperature": 0, "max_tokens": 1, "logprobs": 1, "seed": 1234, "echo": true}"#
        let (status, data) = try await ServerTests.post(service, "/v1/completions", body)
        XCTAssertEqual(status, 200, String(decoding: data, as: UTF8.self))
        let choices = try Self.choices(data).sorted { ($0["index"] as! Int) < ($1["index"] as! Int) }
        XCTAssertEqual(choices.map { $0["index"] as? Int }, [0, 1])
        for (choice, prompt) in zip(choices, prompts) {
            let logprobs = try XCTUnwrap(choice["logprobs"] as? [String: Any])
            let tokenLogprobs = try XCTUnwrap(logprobs["token_logprobs"] as? [Any])
            XCTAssertEqual(tokenLogprobs.count, prompt.count + 1, "the prompt echoed, then the one generated token")
            let scored = tokenLogprobs[context.count..<(tokenLogprobs.count - 1)].map { $0 as! Double }
            let logits = try plain.forward(prompt)
            let expected = (context.count..<prompt.count).map { Self.logSoftmax(logits.row($0 - 1), prompt[$0]) }
            XCTAssertEqual(scored.reduce(0, +), expected.reduce(0, +), accuracy: 1e-3)
            let tokens = try XCTUnwrap(logprobs["tokens"] as? [String])
            let tops = try XCTUnwrap(logprobs["top_logprobs"] as? [Any])
            for i in context.count..<prompt.count {
                let top = try XCTUnwrap(tops[i] as? [String: Double])
                let row = Array(logits.row(i - 1))
                XCTAssertNotNil(top[tokens[i]], "the token itself is among its top entries")
                XCTAssertEqual(top.values.max()!, Self.logSoftmax(logits.row(i - 1), Sampler.argmax(row)), accuracy: Self.tolerance,
                               "the best entry is the model's most likely token")
            }
        }
    }

    /// A generation ended by the end-of-sequence token reports that token's log-probability too (as vLLM), so
    /// lm-eval's `token_logprobs[ctxlen:-1]` drops the generated token, never a prompt token.
    func testEndOfSequenceTokenHasItsLogprob() async throws {
        let service = try ServerTests.service()
        let ids = service.tokenizer.encode(ServerTests.prompt)
        let (_, data) = try await ServerTests.post(service, "/v1/completions",
                                                   #"{"prompt": \#(ids), "max_tokens": 1, "echo": true, "logprobs": 1, "logit_bias": {"0": 100}}"#)
        let choice = try XCTUnwrap(try Self.choices(data).first)
        let logprobs = try XCTUnwrap(choice["logprobs"] as? [String: Any])
        XCTAssertEqual((logprobs["token_logprobs"] as? [Any])?.count, ids.count + 1)
        XCTAssertEqual(choice["text"] as? String, service.tokenizer.decode(ids), "the end-of-sequence token adds no text")
        XCTAssertEqual(choice["finish_reason"] as? String, "stop")
    }

    /// Generated tokens' log-probabilities are of the raw distribution they were drawn from: feeding prompt +
    /// completion through the model gives the same log-softmax at each generated position.
    func testGeneratedTokenLogprobsAndChatShape() async throws {
        let service = try ServerTests.service()
        let (_, data) = try await ServerTests.post(service, "/v1/completions",
                                                   #"{"prompt": "\#(ServerTests.prompt)", "max_tokens": 6, "logprobs": 2, "temperature": 0.8, "seed": 3}"#)
        let choice = try XCTUnwrap(try Self.choices(data).first)
        let logprobs = try XCTUnwrap(choice["logprobs"] as? [String: Any])
        let tokens = try XCTUnwrap(logprobs["tokens"] as? [String])
        XCTAssertEqual(tokens.joined(), choice["text"] as? String)
        let expected = try TextGeneration.stream(model: service.model, tokenizer: service.tokenizer, prompt: service.tokenizer.encode(ServerTests.prompt),
                                                 parameters: GenerateParameters(maxTokens: 6, temperature: 0.8, seed: 3)) { _ in }
        let prompt = service.tokenizer.encode(ServerTests.prompt)
        let logits = try (service.model as! any Backbone).forward(prompt + expected.tokens)
        let got = try XCTUnwrap(logprobs["token_logprobs"] as? [Double])
        for (k, token) in expected.tokens.enumerated() {
            XCTAssertEqual(got[k], Self.logSoftmax(logits.row(prompt.count + k - 1), token), accuracy: Self.tolerance)
        }
        let offsets = try XCTUnwrap(logprobs["text_offset"] as? [Int])
        XCTAssertEqual(offsets, tokens.indices.map { tokens[..<$0].map(\.unicodeScalars.count).reduce(0, +) })

        let chat = #"{"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 4, "logprobs": true, "top_logprobs": 2}"#
        let (status, chatData) = try await ServerTests.post(service, "/v1/chat/completions", chat)
        XCTAssertEqual(status, 200)
        let chatChoice = try XCTUnwrap(try Self.choices(chatData).first)
        let content = try XCTUnwrap((chatChoice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
        let text = ((chatChoice["message"] as? [String: Any])?["content"] as? String) ?? ""
        let bytes = content.flatMap { ($0["bytes"] as? [Int]) ?? [] }.map(UInt8.init)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), text, "the tokens' bytes spell the answer")
        for entry in content {
            let top = try XCTUnwrap(entry["top_logprobs"] as? [[String: Any]])
            XCTAssertEqual(top.count, 2)
            XCTAssertGreaterThanOrEqual(top[0]["logprob"] as! Double, entry["logprob"] as! Double - 1e-6, "the most likely first")
        }
    }

    /// Streamed chunks carry the log-probabilities of their tokens; together they equal the whole answer's.
    func testStreamedLogprobsAddUp() async throws {
        let service = try ServerTests.service()
        let request = #"{"prompt": "\#(ServerTests.prompt)", "max_tokens": 10, "logprobs": 1, "echo": true"#
        let (_, whole) = try await ServerTests.post(service, "/v1/completions", request + "}")
        let (_, streamed) = try await ServerTests.post(service, "/v1/completions", request + #", "stream": true}"#)
        let expected = try XCTUnwrap(try Self.choices(whole).first)
        var text = "", tokens: [String] = [], offsets: [Int] = []
        for event in ServerTests.events(streamed).dropLast() {
            let choice = try XCTUnwrap((try ServerTests.object(Data(event.utf8))["choices"] as? [[String: Any]])?.first)
            text += choice["text"] as? String ?? ""
            let logprobs = choice["logprobs"] as? [String: Any]
            tokens += logprobs?["tokens"] as? [String] ?? []
            offsets += logprobs?["text_offset"] as? [Int] ?? []
        }
        let logprobs = try XCTUnwrap(expected["logprobs"] as? [String: Any])
        XCTAssertEqual(text, expected["text"] as? String)
        XCTAssertEqual(tokens, logprobs["tokens"] as? [String])
        XCTAssertEqual(offsets, logprobs["text_offset"] as? [Int])
    }
}
