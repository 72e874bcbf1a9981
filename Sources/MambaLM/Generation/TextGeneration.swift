import Foundation
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
    public var promptTokenCount: Int
    public var promptSeconds: Double
    public var generationSeconds: Double
    public var stopReason: StopReason

    public var promptTokensPerSecond: Double { Double(promptTokenCount) / max(promptSeconds, 1e-9) }
    public var generationTokensPerSecond: Double { Double(tokens.count) / max(generationSeconds, 1e-9) }
}

/// Tiers 2 and 3 of generation: text in, streamed text out (`onText` gets every piece as soon as it is
/// complete UTF-8 and cannot be part of a stop string), and the whole result with its statistics.
/// `isCancelled` is asked before every token.
public enum TextGeneration {
    public static func stream(model: any LanguageModel, tokenizer: Tokenizer, prompt: [Int], parameters: GenerateParameters,
                              isCancelled: () -> Bool = { false }, onText: (String) -> Void) throws -> GenerationResult {
        try parameters.validate()
        let clock = ContinuousClock()
        let promptStart = clock.now
        var iterator = try TokenIterator(model: model, prompt: prompt, parameters: parameters)
        let promptSeconds = seconds(clock.now - promptStart)
        let generationStart = clock.now
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        var stop = StopCondition(stopStrings: parameters.stopStrings)
        var text = "", tokens: [Int] = []
        var reason = StopReason.maxTokens
        func emit(_ piece: String) { if !piece.isEmpty { text += piece; onText(piece) } }
        while true {
            if isCancelled() { reason = .cancelled; break }
            guard let token = iterator.next() else { break }
            if parameters.stopAtEOS, token == model.eosTokenID { reason = .endOfSequence; break }
            tokens.append(token)
            emit(stop.append(detokenizer.append(token)))
            if let matched = stop.matched { reason = .stopString(matched); break }
        }
        if stop.matched == nil { emit(stop.append(detokenizer.finish())); emit(stop.finish()) }
        if let matched = stop.matched { reason = .stopString(matched) }
        return GenerationResult(text: text, tokens: tokens, promptTokenCount: prompt.count, promptSeconds: promptSeconds,
                                generationSeconds: seconds(clock.now - generationStart), stopReason: reason)
    }

    /// The whole continuation of `prompt` as a String.
    public static func generate(model: any LanguageModel, tokenizer: Tokenizer, prompt: String,
                                parameters: GenerateParameters = GenerateParameters()) throws -> String {
        try stream(model: model, tokenizer: tokenizer, prompt: tokenizer.encode(prompt), parameters: parameters) { _ in }.text
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
