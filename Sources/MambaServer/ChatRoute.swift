import Foundation
import Hummingbird
import MambaLM

/// POST /v1/chat/completions: the conversation as one plain-text prompt (`ChatPrompt`), n samples of the
/// assistant's answer; `logprobs: true` with `top_logprobs: k` reports each token's log-probability, bytes and
/// the k most likely tokens.
enum ChatRoute {
    static func respond(_ fields: RequestFields, _ service: GenerationQueue) async throws(APIError) -> Response {
        var fields = fields
        let body = try ChatCompletionRequest(&fields)
        RequestLog.current?.set("user", body.sampling.user ?? "-")
        let prompt = try service.promptIDs(.text(try ChatPrompt.text(body.messages)), param: "messages")
        let choices = try Choices(service: service, prompts: [prompt], samples: body.sampling.n, promptLogprobs: false) { sample throws(APIError) in
            try body.sampling.parameters(limits: service.limits, vocabularySize: service.model.vocabularySize,
                                         extraStops: [ChatPrompt.stop], logprobs: body.logprobs, choice: sample)
        }
        let (id, created, model, seed) = ("chatcmpl-" + Routes.randomID(), Int(Date().timeIntervalSince1970), service.modelName, body.sampling.seed)
        let (wantsLogprobs, tokenizer) = (body.logprobs != nil, service.tokenizer)
        let response: @Sendable (String, [ChatCompletionResponse.Choice], Usage?) -> ChatCompletionResponse = { object, choices, usage in
            ChatCompletionResponse(id: id, object: object, created: created, model: model, choices: choices, usage: usage, seed: seed)
        }
        if body.sampling.stream {
            let named = FirstChunks()
            let usageChunk: @Sendable (Usage) -> ChatCompletionResponse = { usage in response("chat.completion.chunk", [], usage) }
            let chunk: @Sendable (Choices.Item, GenerationQueue.Event) -> ChatCompletionResponse? = { item, event in
                let role = named.first(item.index) ? "assistant" : nil              // a choice's first delta names the role
                var choice: ChatCompletionResponse.Choice
                switch event {
                case .prompt: return nil
                case .piece(let piece):
                    choice = .init(index: item.index, delta: .init(role: role, content: piece.text))
                    if wantsLogprobs { choice.logprobs = ChatLogprobs(piece.logprobs, tokenizer: tokenizer) }
                case .finished(let result):
                    choice = .init(index: item.index, delta: .init(role: role), finishReason: finishReason(result.stopReason))
                }
                return response("chat.completion.chunk", [choice], nil)
            }
            return choices.stream(chunk: chunk, usageChunk: body.sampling.includeUsage ? usageChunk : nil)
        }
        let outcomes = try await choices.collect()
        let list = zip(choices.items, outcomes).map { item, outcome in
            ChatCompletionResponse.Choice(index: item.index, message: .init(role: "assistant", content: outcome.result.text),
                                          logprobs: wantsLogprobs ? ChatLogprobs(outcome.result.logprobs, tokenizer: tokenizer) : nil,
                                          finishReason: finishReason(outcome.result.stopReason))
        }
        return Routes.json(response("chat.completion", list, choices.usage(zip(choices.items, outcomes).map { ($0.promptIndex, $1.result) })))
    }
}
