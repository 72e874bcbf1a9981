import Foundation
import TensorCore
import Tokenization

/// Why generation ended.
public enum StopReason: Sendable, Equatable, CustomStringConvertible {
    case endOfSequence, maxTokens, stopString(String)
    /// The consumer stopped it (`isCancelled`; a server's client went away).
    case cancelled
    public var description: String {
        switch self {
        case .endOfSequence: return "eos"
        case .maxTokens: return "max tokens"
        case .stopString(let s): return "stop string \(String(reflecting: s))"
        case .cancelled: return "cancelled"
        }
    }
}

/// What a finished generation produced, with its speed.
public struct GenerationResult: Sendable {
    public var text: String
    public var tokens: [Int]
    /// When `GenerateParameters.logprobs` asked for them: one per token of `tokens`, and one for the
    /// end-of-sequence token when it ended the generation.
    public var logprobs: [TokenLogprob]
    public var promptTokenCount: Int
    /// Prompt tokens whose state came from a cache instead of a prefill (a server's prompt cache).
    public var cachedTokenCount = 0
    public var promptSeconds: Double
    public var generationSeconds: Double
    public var stopReason: StopReason

    public var promptTokensPerSecond: Double { Double(promptTokenCount) / max(promptSeconds, 1e-9) }
    public var generationTokensPerSecond: Double { Double(tokens.count) / max(generationSeconds, 1e-9) }

    /// The result of a finished sequence.
    public init(_ decoder: SequenceDecoder, promptTokenCount: Int, promptSeconds: Double, generationSeconds: Double) {
        precondition(decoder.stopReason != nil, "GenerationResult: the sequence is not finished")
        (text, tokens, logprobs, stopReason) = (decoder.text, decoder.tokens, decoder.logprobs, decoder.stopReason!)
        (self.promptTokenCount, self.promptSeconds, self.generationSeconds) = (promptTokenCount, promptSeconds, generationSeconds)
    }
}

/// Tiers 2 and 3 of generation: text in, streamed text out (`onPiece` gets every piece as soon as it is
/// complete UTF-8 and cannot be part of a stop string), and the whole result with its statistics.
/// One sequence at a time: prefill, then `SequenceDecoder` fed by one-token steps (a server batches the same
/// decoder over many sequences). `isCancelled` is asked before every token. `prefilled` continues from a
/// state that already covers `prompt` and the logits [V] it ended with, instead of prefilling it.
public enum TextGeneration {
    public static func stream(model: any LanguageModel, tokenizer: Tokenizer, prompt: [Int], parameters: GenerateParameters,
                              prefilled: (state: ModelState, logits: Tensor)? = nil,
                              isCancelled: () -> Bool = { false }, onPiece: (SequenceDecoder.Piece) -> Void) throws -> GenerationResult {
        try parameters.validate()
        let clock = ContinuousClock()
        let promptStart = clock.now
        var state: ModelState, logits: Tensor
        if let prefilled { (state, logits) = prefilled } else {
            state = model.makeState()
            logits = try model.prefill(prompt, state: &state)
        }
        let promptSeconds = seconds(clock.now - promptStart)
        let generationStart = clock.now
        var decoder = SequenceDecoder(tokenizer: tokenizer, prompt: prompt, parameters: parameters, eosTokenID: model.eosTokenID)
        while true {
            let piece = isCancelled() ? decoder.cancel() : decoder.accept(logits)
            if !piece.isEmpty { onPiece(piece) }
            guard let next = decoder.nextInput else { break }
            logits = model.step(next, state: &state)
        }
        return GenerationResult(decoder, promptTokenCount: prompt.count, promptSeconds: promptSeconds,
                                generationSeconds: seconds(clock.now - generationStart))
    }

    /// The whole continuation of `prompt` as a String.
    public static func generate(model: any LanguageModel, tokenizer: Tokenizer, prompt: String,
                                parameters: GenerateParameters = GenerateParameters()) throws -> String {
        try stream(model: model, tokenizer: tokenizer, prompt: tokenizer.encode(prompt), parameters: parameters) { _ in }.text
    }

    public static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
