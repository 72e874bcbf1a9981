import ArgumentParser
import Foundation
import Hummingbird
import MambaLM
import MambaServer
import Tokenization

/// `remamba serve`: the OpenAI-compatible HTTP server (MambaServer) over one model.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over HTTP: OpenAI-compatible /v1/completions and /v1/chat/completions (streaming with \"stream\": true), /v1/models, /health.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var remamba: ReMambaOptions
    @Option(name: .long, help: "Address to listen on.") var host = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on.") var port = 8080
    @Option(name: .long, help: "Name of the model in responses and /v1/models (default: the directory's name).") var modelName: String?
    @Option(name: .long, help: "Refuse prompts longer than this many tokens.") var maxPromptTokens = ServerLimits().maxPromptTokens
    @Option(name: .long, help: "Largest max_tokens a request may ask for.") var maxTokensLimit = ServerLimits().maxTokens
    @Option(name: .long, help: "max_tokens of a request that gives none.") var defaultMaxTokens = ServerLimits().defaultMaxTokens
    @Option(name: .long, help: "Require Authorization: Bearer KEY on every route but /health (default: $REMAMBA_API_KEY if set).")
    var apiKey: String?
    @Option(name: .long, help: "Answer CORS preflights and allow this origin (\"*\": any).") var corsOrigin: String?
    @Option(name: .long, help: "Close a connection that sends no complete request head for this many seconds.")
    var idleTimeout = ServerOptions().idleTimeoutSeconds
    @Option(name: .long, help: "Refuse (408) a request body not complete this many seconds after its head.")
    var bodyTimeout = ServerOptions().bodyTimeoutSeconds
    @Option(name: .long, help: "One line per request on stderr: text, json or none.") var logFormat = ServerOptions.LogFormat.text
    @Option(name: .long, help: "Sequences generated at once (continuous batching); further requests wait, first come, first served.")
    var parallel = ServerLimits().parallel
    @Option(name: .long, help: "Prompt tokens prefilled per scheduler step, shared by joining requests (bounds the pause of the other streams).")
    var prefillChunk = ServerLimits().prefillChunk
    @Option(name: .long, help: "Capacity of the prompt-state cache in MiB (0: no cache).") var cacheMb = ServerLimits().cacheMegabytes

    func validate() throws {
        if !(1...65_535).contains(port) { throw ValidationError("--port must be in 1…65535, got \(port)") }
        if maxPromptTokens < 1 { throw ValidationError("--max-prompt-tokens must be ≥ 1, got \(maxPromptTokens)") }
        if maxTokensLimit < 1 { throw ValidationError("--max-tokens-limit must be ≥ 1, got \(maxTokensLimit)") }
        if !(idleTimeout > 0 && idleTimeout.isFinite) { throw ValidationError("--idle-timeout must be > 0 seconds, got \(idleTimeout)") }
        if !(bodyTimeout > 0 && bodyTimeout.isFinite) { throw ValidationError("--body-timeout must be > 0 seconds, got \(bodyTimeout)") }
        if !(1...256).contains(parallel) { throw ValidationError("--parallel must be in 1…256, got \(parallel)") }
        if prefillChunk < 1 { throw ValidationError("--prefill-chunk must be ≥ 1, got \(prefillChunk)") }
        if cacheMb < 0 { throw ValidationError("--cache-mb must be ≥ 0, got \(cacheMb)") }
        if apiKey?.isEmpty == true { throw ValidationError("--api-key must not be empty") }
        if !(1...maxTokensLimit).contains(defaultMaxTokens) {
            throw ValidationError("--default-max-tokens must be in 1…\(maxTokensLimit) (--max-tokens-limit), got \(defaultMaxTokens)")
        }
    }

    func run() async throws {
        let service: GenerationQueue
        do {
            let directory = try modelOptions.openDirectory()
            guard let tokenizerURL = directory.tokenizerURL else {
                throw ValidationError("\(directory.url.path): no tokenizer.json, which the server needs to read prompts")
            }
            let tokenizer = try Tokenizer(url: tokenizerURL)
            let model = try remamba.loadModel(directory, adapter: modelOptions.openAdapter(), dtype: modelOptions.weightType)
            var limits = ServerLimits()
            (limits.maxPromptTokens, limits.maxTokens, limits.defaultMaxTokens) = (maxPromptTokens, maxTokensLimit, defaultMaxTokens)
            (limits.parallel, limits.prefillChunk, limits.cacheMegabytes) = (parallel, prefillChunk, cacheMb)
            service = GenerationQueue(model: model, tokenizer: tokenizer, modelName: modelName ?? directory.url.lastPathComponent,
                                      limits: limits)
        } catch let error as ValidationError { throw error } catch {
            throw CommandFailure(error)
        }
        var options = ServerOptions()
        options.apiKey = apiKey ?? ProcessInfo.processInfo.environment["REMAMBA_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        (options.corsOrigin, options.idleTimeoutSeconds, options.bodyTimeoutSeconds, options.logFormat) = (corsOrigin, idleTimeout, bodyTimeout, logFormat)
        printError("serving \(service.modelName) on http://\(host):\(port) (POST /v1/completions, /v1/chat/completions, /tokenize, /detokenize; GET /v1/models, /health, /metrics)"
                   + (options.apiKey == nil ? "" : "; API key required"))
        try await Server.application(service, host: host, port: port, options: options).runService()
    }
}

extension ServerOptions.LogFormat: ExpressibleByArgument {}
