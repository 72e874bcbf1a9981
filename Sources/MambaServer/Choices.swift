import Foundation
import Hummingbird
import MambaLM

/// The choices of one request, one generation each: for every prompt, `n` samples; choice index =
/// prompt index · n + sample (OpenAI's order). Consumed whole (`collect`) or as server-sent events (`stream`).
struct Choices: Sendable {
    struct Item: Sendable {
        var index: Int
        var promptIndex: Int
        var prompt: [Int]
        var events: AsyncThrowingStream<GenerationQueue.Event, Error>
    }
    /// What one choice produced: its prompt's log-probabilities (when asked) and its result.
    struct Outcome: Sendable {
        var promptLogprobs: [TokenLogprob?]?
        var result: GenerationResult
    }

    let items: [Item]
    let service: GenerationQueue
    let arrival = ContinuousClock.now
    let log = RequestLog.current

    /// Starts one generation per (prompt, sample); `parameters(sample)` gives each sample's parameters.
    init(service: GenerationQueue, prompts: [[Int]], samples: Int, promptLogprobs: Bool,
         parameters: (Int) throws(APIError) -> GenerateParameters) throws(APIError) {
        var items: [Item] = []
        for (p, prompt) in prompts.enumerated() {
            for sample in 0..<samples {
                let events = service.generate(prompt: prompt, parameters: try parameters(sample), promptLogprobs: promptLogprobs)
                items.append(Item(index: p * samples + sample, promptIndex: p, prompt: prompt, events: events))
            }
        }
        (self.items, self.service) = (items, service)
    }

    /// Tokens of the request as OpenAI counts them: each prompt once, every choice's completion.
    func usage(_ results: [(promptIndex: Int, result: GenerationResult)]) -> Usage {
        var prompts: [Int: GenerationResult] = [:]
        for (p, result) in results { prompts[p] = result }
        return Usage(promptTokens: prompts.values.map(\.promptTokenCount).reduce(0, +),
                     completionTokens: results.map(\.result.tokens.count).reduce(0, +),
                     cachedTokens: prompts.values.map(\.cachedTokenCount).reduce(0, +))
    }

    /// Every choice to its end, in index order.
    func collect() async throws(APIError) -> [Outcome] {
        var outcomes: [Outcome] = []
        for item in items {
            var promptLogprobs: [TokenLogprob?]?
            var firstToken: Duration?
            do {
                for try await event in item.events {
                    switch event {
                    case .prompt(let logprobs): promptLogprobs = logprobs
                    case .piece: if firstToken == nil { firstToken = ContinuousClock.now - arrival }
                    case .finished(let result):
                        record(result, firstToken: firstToken)
                        outcomes.append(Outcome(promptLogprobs: promptLogprobs, result: result))
                    }
                }
            } catch {
                throw APIError(status: 500, message: "generation failed: \(error)", type: "server_error")
            }
        }
        guard outcomes.count == items.count else {
            throw APIError(status: 500, message: "a generation ended without a result", type: "server_error")
        }
        noteUsage(usage(zip(items, outcomes).map { ($0.promptIndex, $1.result) }))
        return outcomes
    }

    /// Server-sent events: "data: <chunk>" for every event `chunk` turns into one, choice after choice; then,
    /// when `usageChunk` is given (stream_options.include_usage), one with the usage; then "data: [DONE]".
    /// A failure mid-stream is sent as an error event (the status line is already gone).
    func stream<Chunk: Encodable & Sendable>(chunk: @escaping @Sendable (Item, GenerationQueue.Event) -> Chunk?,
                                  usageChunk: (@Sendable (Usage) -> Chunk)?) -> Response {
        let body = ResponseBody { writer in
            func send(_ data: Data) async throws {
                try await writer.write(ByteBuffer(bytes: Array("data: ".utf8) + Array(data) + Array("\n\n".utf8)))
            }
            var results: [(promptIndex: Int, result: GenerationResult)] = []
            do {
                for item in items {
                    var firstToken: Duration?
                    for try await event in item.events {
                        if case .piece = event, firstToken == nil { firstToken = ContinuousClock.now - arrival }
                        if case .finished(let result) = event {
                            record(result, firstToken: firstToken)
                            results.append((item.promptIndex, result))
                        }
                        if let chunk = chunk(item, event) { try await send(try ServerJSON.encoder.encode(chunk)) }
                    }
                }
                noteUsage(usage(results))
                if let usageChunk { try await send(try ServerJSON.encoder.encode(usageChunk(usage(results)))) }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                try await send(APIError(status: 500, message: "generation failed: \(error)", type: "server_error").body)
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    func record(_ result: GenerationResult, firstToken: Duration?) {
        service.metrics.generation(promptTokens: result.promptTokenCount, cachedTokens: result.cachedTokenCount,
                                   generatedTokens: result.tokens.count, timeToFirstToken: firstToken,
                                   decodeTime: .seconds(result.generationSeconds))
    }

    /// The request's tokens, for its log line.
    func noteUsage(_ usage: Usage) {
        log?.set("prompt_tokens", "\(usage.promptTokens)")
        log?.set("completion_tokens", "\(usage.completionTokens)")
        log?.set("cached_tokens", "\(usage.cachedTokens)")
    }
}
