import Foundation
import MambaLM
@testable import MambaServer
import TensorCore
import XCTest

/// Every request field is honoured (the text equals the engine's for the same parameters) or refused with a
/// 400 that names it; prompts come as a string, strings, ids or lists of ids; chat content as text parts.
final class RequestFieldTests: XCTestCase {
    static let prompt = ServerTests.prompt

    func text(_ data: Data, choice: Int = 0) throws -> String? {
        let choices = try XCTUnwrap(try ServerTests.object(data)["choices"] as? [[String: Any]], String(decoding: data, as: UTF8.self))
        let entry = try XCTUnwrap(choices.first { $0["index"] as? Int == choice })
        return entry["text"] as? String ?? (entry["message"] as? [String: Any])?["content"] as? String
    }

    func engine(_ service: GenerationQueue, _ prompt: String, _ configure: (inout GenerateParameters) -> Void) throws -> GenerationResult {
        var parameters = GenerateParameters(maxTokens: 8)
        configure(&parameters)
        return try TextGeneration.stream(model: service.model, tokenizer: service.tokenizer, prompt: service.tokenizer.encode(prompt),
                                         parameters: parameters) { _ in }
    }

    func testSamplingFieldsAreHonoured() async throws {
        let service = try ServerTests.service()
        let cases: [(String, (inout GenerateParameters) -> Void)] = [
            (#""max_completion_tokens": 5"#, { $0.maxTokens = 5 }),
            (#""max_tokens": 8, "presence_penalty": 1.5, "frequency_penalty": 0.7"#, { $0.presencePenalty = 1.5; $0.frequencyPenalty = 0.7 }),
            (#""max_tokens": 8, "temperature": 1.2, "min_p": 0.3, "seed": 9"#, { $0.temperature = 1.2; $0.minP = 0.3; $0.seed = 9 }),
            (#""max_tokens": 8, "logit_bias": {"17": 100}"#, { $0.logitBias = [17: 100] }),
            (#""max_tokens": 8, "temperature": 0.9, "top_k": 5, "top_p": 0.8, "repetition_penalty": 1.3, "seed": 4, "user": "alice""#,
             { $0.temperature = 0.9; $0.topK = 5; $0.topP = 0.8; $0.repetitionPenalty = 1.3; $0.seed = 4 }),
        ]
        for (fields, configure) in cases {
            let (status, data) = try await ServerTests.post(service, "/v1/completions", #"{"prompt": "\#(Self.prompt)", \#(fields)}"#)
            XCTAssertEqual(status, 200, fields + String(decoding: data, as: UTF8.self))
            let expected = try engine(service, Self.prompt, configure)
            XCTAssertEqual(try text(data), expected.text, fields)
            let usage = try XCTUnwrap(try ServerTests.object(data)["usage"] as? [String: Any])
            XCTAssertEqual(usage["completion_tokens"] as? Int, expected.tokens.count, fields)
        }
        // logit_bias +100 makes the token certain; the penalties change greedy text on this model.
        let biased = try engine(service, Self.prompt) { $0.logitBias = [17: 100] }
        XCTAssertEqual(biased.tokens, Array(repeating: 17, count: 8))
        let plain = try engine(service, Self.prompt) { $0.maxTokens = 48 }
        let penalized = try engine(service, Self.prompt) { $0.maxTokens = 48; $0.frequencyPenalty = 2; $0.presencePenalty = 2 }
        XCTAssertLessThan(Set(plain.tokens).count, plain.tokens.count, "greedy text repeats itself on this model")
        XCTAssertNotEqual(plain.tokens, penalized.tokens, "the penalties act")
    }

    /// OpenAI's formula, written out: logit − count·frequency − (count > 0)·presence, on the output so far only.
    func testPenaltiesFollowOpenAIsFormula() {
        var parameters = GenerateParameters(maxTokens: 10)
        (parameters.frequencyPenalty, parameters.presencePenalty) = (0.5, 0.25)
        var sampler = Sampler(parameters)
        let logits: [Float] = [3, 2.9, 2.8, 1, 0]
        var picked: [Int] = []
        for _ in 0..<6 { picked.append(sampler.next(Tensor(shape: [5], data: logits), history: [0, 0, 0])) }
        var counts = [Int](repeating: 0, count: 5), expected: [Int] = []
        for _ in 0..<6 {
            let scores = logits.indices.map { logits[$0] - Float(counts[$0]) * 0.5 - (counts[$0] > 0 ? 0.25 : 0) }
            let best = Sampler.argmax(scores)
            counts[best] += 1
            expected.append(best)
        }
        XCTAssertEqual(picked, expected)
        XCTAssertEqual(picked, [0, 1, 2, 0, 1, 2], "the prompt's tokens are not penalized")
    }

    /// min_p keeps tokens with p ≥ min_p · p_max: with logits log(1), log(0.5), log(0.1) and min_p 0.2 the third
    /// never comes, in 2,000 seeded draws, and the other two come in about the ratio 2:1.
    func testMinPFiltersRelativeToTheMostLikely() {
        var parameters = GenerateParameters(maxTokens: 1, temperature: 1)
        parameters.minP = 0.2
        var counts = [0, 0, 0]
        for seed in 0..<2000 {
            parameters.seed = UInt64(seed)
            var sampler = Sampler(parameters)
            counts[sampler.next(Tensor(shape: [3], data: [0, log(0.5), log(0.1)]), history: [])] += 1
        }
        XCTAssertEqual(counts[2], 0)
        XCTAssertEqual(Double(counts[0]) / Double(counts[1]), 2, accuracy: 0.3)
    }

    func testSeedIsRandomWhenAbsentAndReproducesWhenGiven() async throws {
        let service = try ServerTests.service()
        var seeds: Set<Int> = []
        for seed in ["", #", "seed": -1"#] {
            for _ in 0..<3 {
                let (_, data) = try await ServerTests.post(service, "/v1/completions", #"{"prompt": "\#(Self.prompt)", "max_tokens": 2, "temperature": 1\#(seed)}"#)
                seeds.insert(try XCTUnwrap(try ServerTests.object(data)["seed"] as? Int))
            }
        }
        XCTAssertEqual(seeds.count, 6, "a fresh random seed each time")
        let drawn = try XCTUnwrap(seeds.first)
        let request = #"{"prompt": "\#(Self.prompt)", "max_tokens": 8, "temperature": 1, "seed": \#(drawn)}"#
        let (_, a) = try await ServerTests.post(service, "/v1/completions", request)
        let (_, b) = try await ServerTests.post(service, "/v1/completions", request)
        XCTAssertEqual(try text(a), try text(b))
        XCTAssertEqual(try text(a), try engine(service, Self.prompt) { $0.temperature = 1; $0.seed = UInt64(drawn) }.text)
    }

    func testPromptFormsAndN() async throws {
        let service = try ServerTests.service()
        let other = "Once upon a time"
        let (ids, otherIDs) = (service.tokenizer.encode(Self.prompt), service.tokenizer.encode(other))
        let solo = try engine(service, Self.prompt) { _ in }.text, otherSolo = try engine(service, other) { _ in }.text
        for prompt in [#"["\#(Self.prompt)", "\#(other)"]"#, "[\(ids), \(otherIDs)]"] {
            let (status, data) = try await ServerTests.post(service, "/v1/completions", #"{"prompt": \#(prompt), "max_tokens": 8}"#)
            XCTAssertEqual(status, 200, String(decoding: data, as: UTF8.self))
            XCTAssertEqual(try text(data, choice: 0), solo, prompt)
            XCTAssertEqual(try text(data, choice: 1), otherSolo, prompt)
            let usage = try XCTUnwrap(try ServerTests.object(data)["usage"] as? [String: Any])
            XCTAssertEqual(usage["prompt_tokens"] as? Int, ids.count + otherIDs.count)
        }
        let (_, single) = try await ServerTests.post(service, "/v1/completions", #"{"prompt": \#(ids), "max_tokens": 8}"#)
        XCTAssertEqual(try text(single), solo, "a list of ids is one prompt")
        // n samples of each prompt: index = prompt · n + sample, sample j drawn with seed + j.
        let (_, sampled) = try await ServerTests.post(service, "/v1/completions",
                                                      #"{"prompt": ["\#(Self.prompt)", "\#(other)"], "max_tokens": 6, "n": 2, "temperature": 1, "seed": 20}"#)
        for (index, (text, seed)) in [(Self.prompt, 20), (Self.prompt, 21), (other, 20), (other, 21)].enumerated() {
            let expected = try engine(service, text) { $0.maxTokens = 6; $0.temperature = 1; $0.seed = UInt64(seed) }
            XCTAssertEqual(try self.text(sampled, choice: index), expected.text, "choice \(index)")
        }
        let (status, bad) = try await ServerTests.post(service, "/v1/completions", #"{"prompt": [[1, 2], [3, 99999, 4]]}"#)
        XCTAssertEqual(status, 400)
        let message = try XCTUnwrap((try ServerTests.object(bad)["error"] as? [String: Any])?["message"] as? String)
        XCTAssertTrue(message.contains("prompt[1][1]") && message.contains("99999"), message)
    }

    func testChatContentParts() async throws {
        let service = try ServerTests.service()
        let asString = #"{"messages": [{"role": "user", "content": "Where is the harbour?"}], "max_tokens": 8}"#
        let asParts = #"{"messages": [{"role": "user", "content": [{"type": "text", "text": "Where is "}, {"type": "text", "text": "the harbour?"}]}], "max_tokens": 8}"#
        let (_, a) = try await ServerTests.post(service, "/v1/chat/completions", asString)
        let (status, b) = try await ServerTests.post(service, "/v1/chat/completions", asParts)
        XCTAssertEqual(status, 200)
        XCTAssertEqual(try text(a), try text(b))
    }

    func testStreamOptionsIncludeUsage() async throws {
        let service = try ServerTests.service()
        for uri in ["/v1/completions", "/v1/chat/completions"] {
            let input = uri == "/v1/completions" ? #""prompt": "\#(Self.prompt)""# : #""messages": [{"role": "user", "content": "Hi"}]"#
            let (_, data) = try await ServerTests.post(service, uri, #"{\#(input), "max_tokens": 5, "stream": true, "stream_options": {"include_usage": true}}"#)
            let chunks = try ServerTests.events(data).dropLast().map { try ServerTests.object(Data($0.utf8)) }
            let last = try XCTUnwrap(chunks.last)
            XCTAssertEqual((last["choices"] as? [Any])?.count, 0, "the usage chunk has no choices")
            XCTAssertNotNil((last["usage"] as? [String: Any])?["completion_tokens"] as? Int)
            XCTAssertTrue(chunks.dropLast().allSatisfy { $0["usage"] == nil })
        }
    }

    func testRefusedFieldsAndTypeErrorsNameTheField() async throws {
        let service = try ServerTests.service()
        let p = #""prompt": "hi""#, m = #""messages": [{"role": "user", "content": "hi"}]"#
        let cases: [(String, String, String, String)] = [
            ("/v1/chat/completions", #"{\#(m), "response_format": {"type": "json_object"}}"#, "response_format", "text"),
            ("/v1/chat/completions", #"{\#(m), "tools": [{"type": "function"}]}"#, "tools", "not supported"),
            ("/v1/chat/completions", #"{\#(m), "tool_choice": "auto"}"#, "tool_choice", "not supported"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}"#,
             "messages", "messages[0].content[0].type: image_url"),
            ("/v1/chat/completions", #"{\#(m), "top_logprobs": 2}"#, "top_logprobs", "logprobs"),
            ("/v1/completions", #"{\#(p), "suffix": "end"}"#, "suffix", "not supported"),
            ("/v1/completions", #"{\#(p), "best_of": 3}"#, "best_of", "best_of = n"),
            ("/v1/completions", #"{\#(p), "mirostat": 2}"#, "mirostat", "unknown field"),
            ("/v1/completions", #"{\#(p), "max_tokens": "5"}"#, "max_tokens", "max_tokens: expected an integer, got a string"),
            ("/v1/completions", #"{\#(p), "max_tokens": 5.5}"#, "max_tokens", "expected an integer, got a number"),
            ("/v1/completions", #"{\#(p), "temperature": "hot"}"#, "temperature", "temperature: expected a number"),
            ("/v1/completions", #"{\#(p), "stream": 1}"#, "stream", "stream: expected a boolean"),
            ("/v1/completions", #"{\#(p), "seed": -2}"#, "seed", "-1 for a random seed"),
            ("/v1/completions", #"{\#(p), "logprobs": 21}"#, "logprobs", "between 0 and 20"),
            ("/v1/completions", #"{\#(p), "max_tokens": 0}"#, "max_tokens", "0 only with \"echo\""),
            ("/v1/completions", #"{\#(p), "logit_bias": {"99999": 1}}"#, "logit_bias", "outside the vocabulary"),
            ("/v1/completions", #"{\#(p), "logit_bias": {"5": 101}}"#, "logit_bias", "−100…100"),
            ("/v1/completions", #"{\#(p), "presence_penalty": 3}"#, "presence_penalty", "−2…2"),
            ("/v1/completions", #"{\#(p), "min_p": 2}"#, "min_p", "min-p"),
            ("/v1/completions", #"{\#(p), "stream_options": {"include_usage": true}}"#, "stream_options", "\"stream\": true"),
            ("/v1/completions", #"{\#(p), "max_tokens": 4, "max_completion_tokens": 5}"#, "max_completion_tokens", "disagree"),
        ]
        for (uri, body, param, words) in cases {
            let (status, data) = try await ServerTests.post(service, uri, body)
            XCTAssertEqual(status, 400, body)
            let error = try XCTUnwrap(try ServerTests.object(data)["error"] as? [String: Any], body)
            let message = error["message"] as? String ?? ""
            XCTAssertEqual(error["param"] as? String, param, body + " → " + message)
            XCTAssertTrue(message.contains(words), "\(body): \(message)")
        }
    }

    /// The openai SDK's own request bodies (recorded by scripts/fixtures/openai_requests.py) are all accepted.
    func testRecordedOpenAISDKRequests() async throws {
        let service = try ServerTests.service()
        let folder = ServerTests.root.appendingPathComponent("Tests/Fixtures/openai-requests")
        let manifest = try ServerTests.object(Data(contentsOf: folder.appendingPathComponent("manifest.json")))
        let cases = try XCTUnwrap(manifest["cases"] as? [String])
        XCTAssertEqual(cases.count, 10)
        for name in cases {
            let body = try Data(contentsOf: folder.appendingPathComponent("\(name).json"))
            let uri = name.hasPrefix("chat") ? "/v1/chat/completions" : "/v1/completions"
            let (status, data) = try await ServerTests.post(service, uri, body)
            XCTAssertEqual(status, 200, "\(name): \(String(decoding: data, as: UTF8.self))")
            let request = try ServerTests.object(body)
            if request["stream"] as? Bool == true {
                XCTAssertEqual(ServerTests.events(data).last, "[DONE]", name)
            } else {
                let choices = try XCTUnwrap(try ServerTests.object(data)["choices"] as? [[String: Any]], name)
                let prompts = (request["prompt"] as? [Any])?.count ?? 1
                XCTAssertEqual(choices.count, prompts * (request["n"] as? Int ?? 1), name)
                if request["logprobs"] != nil { XCTAssertFalse(choices[0]["logprobs"] is NSNull, name) }
            }
        }
    }
}
