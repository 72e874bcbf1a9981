import Prometheus

/// The server's Prometheus metrics (GET /metrics, text exposition format), on swift-prometheus:
/// requests by route and status, prompt and generated tokens, the generation queue's depth, time to
/// first token and time per generated token.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let promptTokens: Counter
    let generatedTokens: Counter
    let cachedTokens: Counter
    let queueDepth: Gauge
    let timeToFirstToken: DurationHistogram
    let timePerToken: DurationHistogram

    public init() {
        promptTokens = registry.makeCounter(name: "remamba_prompt_tokens_total", help: "Prompt tokens of finished generations.")
        generatedTokens = registry.makeCounter(name: "remamba_generated_tokens_total", help: "Tokens generated.")
        cachedTokens = registry.makeCounter(name: "remamba_cached_prompt_tokens_total", help: "Prompt tokens taken from the prompt cache.")
        queueDepth = registry.makeGauge(name: "remamba_queue_depth", help: "Generations waiting to start.")
        let seconds: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                   .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)]
        timeToFirstToken = registry.makeDurationHistogram(name: "remamba_time_to_first_token_seconds", buckets: seconds,
                                                          help: "From a generation's arrival to its first token.")
        timePerToken = registry.makeDurationHistogram(name: "remamba_time_per_output_token_seconds", buckets: seconds,
                                                      help: "Mean time per generated token after the first, per generation.")
    }

    /// Counts one answered request.
    func request(path: String, method: String, status: Int) {
        registry.makeCounter(name: "remamba_requests_total", labels: [("path", path), ("method", method), ("status", "\(status)")],
                             help: "HTTP requests answered, by route, method and status.").increment()
    }

    /// Records a finished generation.
    func generation(promptTokens prompt: Int, cachedTokens cached: Int, generatedTokens generated: Int,
                    timeToFirstToken: Duration?, decodeTime: Duration) {
        promptTokens.increment(by: Int64(prompt))
        cachedTokens.increment(by: Int64(cached))
        generatedTokens.increment(by: Int64(generated))
        if let timeToFirstToken { self.timeToFirstToken.record(timeToFirstToken) }
        if generated > 1 { timePerToken.record(decodeTime / (generated - 1)) }
    }

    /// The exposition text.
    public func text() -> String { registry.emitToString() }
}
