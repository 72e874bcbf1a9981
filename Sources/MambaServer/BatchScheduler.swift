import Foundation
import MambaLM
import Synchronization
import Tokenization

/// Continuous batching (llama.cpp's `-np`, vLLM's scheduler) on its own thread. Requests wait here, first come,
/// first served; the scheduler's thread admits up to `parallel` of them into its `BatchLoop` (which owns the
/// sequences in flight and the prompt cache) and runs the loop's iterations. A request cancelled while waiting
/// never starts.
final class BatchScheduler: Sendable {
    /// A request as it waits: what its sequence starts from.
    struct Request: Sendable {
        let prompt: [Int]
        let parameters: GenerateParameters
        let promptLogprobs: Bool
        let continuation: AsyncThrowingStream<GenerationQueue.Event, Error>.Continuation
        let cancelled: CancellationFlag
        let arrival = ContinuousClock.now
    }

    private struct Inbox {
        var waiting: [Request] = []
        /// How many requests have been admitted (started) so far.
        var admitted = 0
    }

    private let inbox = Mutex(Inbox())
    /// Signalled once per submitted request; the scheduler's thread waits on it while it has nothing to do.
    private let arrivals = DispatchSemaphore(value: 0)
    private let metrics: ServerMetrics

    init(model: any LanguageModel, tokenizer: Tokenizer, parallel: Int, prefillChunk: Int, cacheBytes: Int, metrics: ServerMetrics) {
        self.metrics = metrics
        let thread = Thread { [weak self] in
            let loop = BatchLoop(model: model, tokenizer: tokenizer, parallel: parallel, prefillChunk: prefillChunk,
                                 cache: PromptCache(capacityBytes: cacheBytes))
            while let scheduler = self { loop.iterate(scheduler) }
        }
        thread.name = "remamba.scheduler"
        thread.start()
    }

    func submit(_ request: Request) {
        metrics.queueDepth.increment()
        inbox.withLock { $0.waiting.append(request) }
        arrivals.signal()
    }

    var startedCount: Int { inbox.withLock { $0.admitted } }

    /// Up to `free` waiting requests, oldest first; waiting requests cancelled by now are dropped (their streams
    /// end without an event).
    func admit(upTo free: Int) -> [Request] {
        let (admitted, dropped) = inbox.withLock { inbox -> ([Request], [Request]) in
            var admitted: [Request] = [], dropped: [Request] = [], kept: [Request] = []
            for request in inbox.waiting {
                if request.cancelled.isSet { dropped.append(request) }
                else if admitted.count < free { admitted.append(request) }
                else { kept.append(request) }
            }
            inbox.waiting = kept
            inbox.admitted += admitted.count
            return (admitted, dropped)
        }
        for request in dropped { request.continuation.finish() }
        metrics.queueDepth.decrement(by: Double(admitted.count + dropped.count))
        return admitted
    }

    /// Blocks the scheduler's thread until a request arrives, or a second passes (so that the thread of a
    /// released scheduler ends).
    func waitForArrival() { _ = arrivals.wait(timeout: .now() + 1) }
}
