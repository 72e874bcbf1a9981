import Foundation
import MambaLM
@testable import MambaServer
import TensorCore
import Tokenization
import XCTest

/// Continuous batching against the single-sequence engine: a batched step's logits equal single steps (1e-5) on
/// Mamba, Mamba2 and ReMamba fixtures; 16 concurrent requests give byte-identical text to the same requests
/// served alone, greedy and seeded; waiting requests are served first come, first served; cancelled ones leave.
final class BatchingTests: XCTestCase {
    static let fixtures = ServerTests.root.appendingPathComponent("Tests/Fixtures")
    static let tokenizer = try! Tokenizer(url: fixtures.appendingPathComponent("demo-random/tokenizer.json"))

    /// Mamba (transformers fixture), Mamba2 (transformers fixture), and ReMamba (the official fixture's checkpoint).
    static func models() throws -> [(String, any LanguageModel)] {
        let settings = CompressionSettings(start: 0, length: 0.5, ratio: 0.2)
        return [
            ("mamba1/tiny_b", try ModelLoader.load(ModelDirectory(fixtures.appendingPathComponent("mamba1/tiny_b")))),
            ("mamba2/tiny_b", try ModelLoader.load(ModelDirectory(fixtures.appendingPathComponent("mamba2/tiny_b")))),
            ("remamba1_a", try ModelLoader.load(ModelDirectory(fixtures.appendingPathComponent("remamba-official/models/remamba1_a")),
                                                compression: settings)),
        ]
    }

    /// Prompts of different lengths with ids inside every fixture's vocabulary.
    static func prompts(_ count: Int, vocabulary: Int) -> [[Int]] {
        var generator = SeededGenerator(seed: 11)
        return (0..<count).map { i in (0..<(5 + 3 * i)).map { _ in Int(generator.next() % UInt64(min(vocabulary, 250))) } }
    }

    func testBatchedStepEqualsSingleSteps() throws {
        for (name, model) in try Self.models() {
            var states: [ModelState] = []
            for prompt in Self.prompts(5, vocabulary: model.vocabularySize) {
                var state = model.makeState()
                _ = try model.prefill(prompt, state: &state)
                states.append(state)
            }
            let ids = [3, 1, 4, 1, 5]
            var single = states
            let expected = Tensor.concatenateRows(ids.indices.map { model.step(ids[$0], state: &single[$0]).reshaped([1, model.vocabularySize]) })
            var batched = states
            let rows = model.step(ids, states: &batched)
            let difference = rows.maxAbsDifference(expected)
            print("\(name): batched step vs single steps, max |Δlogits| = \(difference)")
            XCTAssertLessThanOrEqual(difference, 1e-5, name)
            XCTAssertEqual(batched.map(\.position), single.map(\.position))
        }
    }

    /// Everything a generation sent, as text and its result.
    static func run(_ stream: AsyncThrowingStream<GenerationQueue.Event, Error>) async throws -> (String, GenerationResult?) {
        var text = ""
        var result: GenerationResult?
        for try await event in stream {
            switch event {
            case .piece(let piece): text += piece.text
            case .finished(let finished): result = finished
            case .prompt: break
            }
        }
        return (text, result)
    }

    func testSixteenConcurrentRequestsEqualSoloGeneration() async throws {
        for (name, model) in try Self.models() {
            var limits = ServerLimits()
            (limits.parallel, limits.prefillChunk) = (16, 16)      // several prefill steps per prompt, interleaved with decoding
            let service = GenerationQueue(model: model, tokenizer: Self.tokenizer, modelName: name, limits: limits)
            let prompts = Self.prompts(16, vocabulary: model.vocabularySize)
            let parameters = prompts.indices.map { i in
                i % 2 == 0 ? GenerateParameters(maxTokens: 12 + i, stopAtEOS: false)
                           : GenerateParameters(maxTokens: 10 + i, temperature: 0.9, topK: 20, seed: UInt64(i), stopAtEOS: false)
            }
            let streams = prompts.indices.map { service.generate(prompt: prompts[$0], parameters: parameters[$0]) }
            let outcomes = try await withThrowingTaskGroup(of: (Int, String, GenerationResult?).self) { group in
                for (i, stream) in streams.enumerated() { group.addTask { let (t, r) = try await Self.run(stream); return (i, t, r) } }
                return try await group.reduce(into: [:]) { $0[$1.0] = ($1.1, $1.2) }
            }
            for i in prompts.indices {
                let solo = try TextGeneration.stream(model: model, tokenizer: Self.tokenizer, prompt: prompts[i], parameters: parameters[i]) { _ in }
                XCTAssertEqual(outcomes[i]?.0, solo.text, "\(name) request \(i)")
                XCTAssertEqual(outcomes[i]?.1?.tokens, solo.tokens, "\(name) request \(i)")
            }
        }
    }

    /// With one slot, requests run in arrival order; one cancelled while waiting never starts.
    func testFirstComeFirstServedAndCancelledWhileWaiting() async throws {
        var limits = ServerLimits()
        limits.parallel = 1
        let service = try ServerTests.service(limits: limits)
        let prompt = service.tokenizer.encode(ServerTests.prompt)
        let order = OrderLog()
        let first = service.generate(prompt: prompt, parameters: GenerateParameters(maxTokens: 30, stopAtEOS: false))
        var abandoned: AsyncThrowingStream<GenerationQueue.Event, Error>? = service.generate(prompt: prompt, parameters: GenerateParameters(maxTokens: 30))
        let later = (0..<3).map { _ in service.generate(prompt: prompt, parameters: GenerateParameters(maxTokens: 3, stopAtEOS: false)) }
        abandoned = nil                                                                   // its client went away while it waited
        XCTAssertNil(abandoned)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, stream) in ([first] + later).enumerated() {
                group.addTask { for try await event in stream { if case .finished = event { order.append(i) } } }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(order.all, [0, 1, 2, 3])
        XCTAssertEqual(service.scheduler.startedCount, 4, "the abandoned request never started")
    }
}

final class OrderLog: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int] = []
    func append(_ value: Int) { lock.lock(); values.append(value); lock.unlock() }
    var all: [Int] { lock.lock(); defer { lock.unlock() }; return values }
}
