import Foundation
import MambaLM
@testable import MambaServer
import TensorCore
import Tokenization
import XCTest

/// The prompt-state cache: a prompt extending a cached prefix continues from its state with the same logits as a
/// fresh prefill (Mamba, Mamba2: 1e-5); for ReMamba the continuation is the generation loop continued (the new
/// tokens fed after the first request's last state); the server reports `cached_tokens`; the LRU keeps its bound.
final class PromptCacheTests: XCTestCase {
    func testContinuingFromACachedPrefixEqualsAFreshPrefill() throws {
        for (name, model) in try BatchingTests.models() {
            let prompt = BatchingTests.prompts(12, vocabulary: model.vocabularySize)[11]          // 38 ids
            let prefix = Array(prompt.prefix(20)), rest = Array(prompt.dropFirst(20))
            var cached = model.makeState()
            _ = try model.prefill(prefix, state: &cached)
            let continued = try model.continueSequence(rest, state: &cached)
            var expectedState = model.makeState()
            let expected: Tensor
            if model.prefillsInPieces {
                expected = try model.prefill(prompt, state: &expectedState)                      // a fresh prefill of the whole
            } else {
                _ = try model.prefill(prefix, state: &expectedState)                              // ReMamba: the loop continued
                expected = rest.map { model.step($0, state: &expectedState) }.last!
            }
            let difference = continued.maxAbsDifference(expected)
            print("\(name): continuation from a cached prefix vs \(model.prefillsInPieces ? "fresh prefill" : "step-by-step loop"), max |Δlogits| = \(difference)")
            XCTAssertLessThanOrEqual(difference, 1e-5, name)
        }
    }

    func testServerReportsCachedTokensAndKeepsTheText() async throws {
        let service = try ServerTests.service()
        let first = ServerTests.prompt
        let second = first + " and sang an old song about the sea"
        func request(_ prompt: String) async throws -> (String, Int) {
            let (status, data) = try await ServerTests.post(service, "/v1/completions", #"{"prompt": "\#(prompt)", "max_tokens": 6}"#)
            XCTAssertEqual(status, 200)
            let body = try ServerTests.object(data)
            let usage = try XCTUnwrap(body["usage"] as? [String: Any])
            let cached = try XCTUnwrap((usage["prompt_tokens_details"] as? [String: Int])?["cached_tokens"])
            return (try XCTUnwrap((body["choices"] as? [[String: Any]])?.first?["text"] as? String), cached)
        }
        let (text, cold) = try await request(first)
        XCTAssertEqual(cold, 0)
        let (again, warm) = try await request(first)
        XCTAssertEqual(warm, service.tokenizer.encode(first).count, "the whole prompt's state was kept")
        XCTAssertEqual(again, text)
        let (extended, partial) = try await request(second)
        XCTAssertGreaterThan(partial, 0)
        XCTAssertLessThan(partial, service.tokenizer.encode(second).count)
        let solo = try TextGeneration.stream(model: service.model, tokenizer: service.tokenizer, prompt: service.tokenizer.encode(second),
                                             parameters: GenerateParameters(maxTokens: 6)) { _ in }
        XCTAssertEqual(extended, solo.text)
        // A chat's next turn (previous prompt + its answer + a new message) continues where the answer ended.
        let turn1 = #"{"messages": [{"role": "user", "content": "Where is the harbour?"}], "max_tokens": 5}"#
        let (_, data1) = try await ServerTests.post(service, "/v1/chat/completions", turn1)
        let answer = try XCTUnwrap(((try ServerTests.object(data1)["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String)
        let messages = [ChatCompletionRequest.Message(role: "user", content: "Where is the harbour?"),
                        ChatCompletionRequest.Message(role: "assistant", content: answer.trimmingCharacters(in: .whitespaces)),
                        ChatCompletionRequest.Message(role: "user", content: "And the boats?")]
        let body = try JSONEncoder().encode(["messages": messages])
        let (_, data2) = try await ServerTests.post(service, "/v1/chat/completions", body)
        let usage = try XCTUnwrap(try ServerTests.object(data2)["usage"] as? [String: Any])
        let cached = try XCTUnwrap((usage["prompt_tokens_details"] as? [String: Int])?["cached_tokens"])
        let firstPrompt = service.tokenizer.encode(try ChatPrompt.text(Array(messages.prefix(1))))
        XCTAssertGreaterThanOrEqual(cached, firstPrompt.count, "the follow-up turn starts at least from the first turn's prompt")
    }

    func testLeastRecentlyUsedEntriesGoFirst() throws {
        let model = try ServerTests.service().model
        var state = model.makeState()
        let logits = try model.prefill([1, 2, 3], state: &state)
        let one = PromptCache.Entry(ids: [1], state: state, logits: logits, lastUse: 0).bytes
        let cache = PromptCache(capacityBytes: 3 * one + one / 2)
        for i in 1...3 { cache.store(ids: [i], state: state, logits: logits) }
        XCTAssertNotNil(cache.longestPrefix(of: [1, 9]))                                  // [1] is now the most recent
        cache.store(ids: [4], state: state, logits: logits)
        XCTAssertEqual(cache.count, 3)
        XCTAssertNil(cache.longestPrefix(of: [2]), "the least recently used entry went")
        XCTAssertNotNil(cache.longestPrefix(of: [1]))
        XCTAssertLessThanOrEqual(cache.bytes, cache.capacityBytes)
        cache.store(ids: [1, 2], state: state, logits: logits)
        XCTAssertEqual(cache.longestPrefix(of: [1, 2, 7])?.ids, [1, 2], "the longest prefix wins")
    }
}
