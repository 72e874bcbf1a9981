import Foundation
import Hummingbird
import MambaLM

/// POST /v1/completions: one choice per prompt and sample. `echo` puts the prompt first (with its tokens'
/// log-probabilities, the first null, when `logprobs` is given: lm-eval's scoring request, usually with
/// max_tokens 0 or 1); `logprobs: k` reports every token's log-probability and the k most likely.
enum CompletionRoute {
    static func respond(_ fields: RequestFields, _ service: GenerationQueue) async throws(APIError) -> Response {
        var fields = fields
        let body = try CompletionRequest(&fields)
        RequestLog.current?.set("user", body.sampling.user ?? "-")
        let prompts = try body.prompts.enumerated().map { (i, prompt) throws(APIError) in
            try service.promptIDs(prompt, param: "prompt", index: body.prompts.count > 1 ? i : nil)
        }
        let scoresPrompt = body.echo && body.logprobs != nil
        if scoresPrompt && !service.scoresPrompts {
            throw APIError.invalid("echo with logprobs: this server runs ReMamba, which compresses the prompt, so prompt tokens have no log-probabilities of their own",
                                   param: "echo")
        }
        let choices = try Choices(service: service, prompts: prompts, samples: body.sampling.n, promptLogprobs: scoresPrompt) { sample throws(APIError) in
            try body.sampling.parameters(limits: service.limits, vocabularySize: service.model.vocabularySize,
                                         minimumMaxTokens: body.echo ? 0 : 1, logprobs: body.logprobs, choice: sample)
        }
        let (id, created, model, seed) = ("cmpl-" + Routes.randomID(), Int(Date().timeIntervalSince1970), service.modelName, body.sampling.seed)
        let (echo, wantsLogprobs, tokenizer) = (body.echo, body.logprobs != nil, service.tokenizer)
        let promptTexts = zip(body.prompts, prompts).map { input, ids -> String in
            if case .text(let text) = input { return text } else { return tokenizer.decode(ids) }
        }
        let response: @Sendable ([CompletionResponse.Choice], Usage?) -> CompletionResponse = { choices, usage in
            CompletionResponse(id: id, created: created, model: model, choices: choices, usage: usage, seed: seed)
        }
        if body.sampling.stream {
            let (offsets, echoed) = (TextOffsets(), FirstChunks())
            let usageChunk: @Sendable (Usage) -> CompletionResponse = { usage in response([], usage) }
            let chunk: @Sendable (Choices.Item, GenerationQueue.Event) -> CompletionResponse? = { item, event in
                var choice = CompletionResponse.Choice(index: item.index, text: "")
                var logprobs = CompletionLogprobs()
                switch event {
                case .prompt(let promptLogprobs):
                    logprobs.append(item.prompt, promptLogprobs, tokenizer: tokenizer, offset: &offsets[item.index])
                case .piece(let piece):
                    choice.text = piece.text
                    logprobs.append(piece.logprobs.map(\.token), piece.logprobs, tokenizer: tokenizer, offset: &offsets[item.index])
                case .finished(let result):
                    choice.finishReason = finishReason(result.stopReason)
                }
                if echo, echoed.first(item.index) {                                     // the choice's first chunk
                    choice.text = promptTexts[item.promptIndex] + choice.text
                }
                if wantsLogprobs { choice.logprobs = logprobs }
                return response([choice], nil)
            }
            return choices.stream(chunk: chunk, usageChunk: body.sampling.includeUsage ? usageChunk : nil)
        }
        let outcomes = try await choices.collect()
        let list = zip(choices.items, outcomes).map { item, outcome in
            var offset = 0
            var logprobs = CompletionLogprobs()
            var text = outcome.result.text
            if echo { text = promptTexts[item.promptIndex] + text }
            if let promptLogprobs = outcome.promptLogprobs {
                logprobs.append(item.prompt, promptLogprobs, tokenizer: tokenizer, offset: &offset)
            }
            logprobs.append(outcome.result.logprobs.map(\.token), outcome.result.logprobs, tokenizer: tokenizer, offset: &offset)
            return CompletionResponse.Choice(index: item.index, text: text, logprobs: wantsLogprobs ? logprobs : nil,
                                             finishReason: finishReason(outcome.result.stopReason))
        }
        return Routes.json(response(list, choices.usage(zip(choices.items, outcomes).map { ($0.promptIndex, $1.result) })))
    }
}
