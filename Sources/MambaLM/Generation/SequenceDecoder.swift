import Tokenization
import TensorCore

/// One sequence's decoding after its prefill, whatever computes its logits (a loop over one sequence, or a
/// server's batched step over many): each call to `accept` picks the next token from the logits that predict
/// it, detokenizes it, checks the stop strings, end of sequence and max tokens, and returns the text that is
/// now safe to release with the log-probabilities of the tokens behind it.
public struct SequenceDecoder {
    /// Text that became releasable, and the log-probabilities of the tokens picked since the last piece
    /// that carried any (when `parameters.logprobs` asks for them).
    public struct Piece: Sendable, Equatable {
        public var text = ""
        public var logprobs: [TokenLogprob] = []
        public var isEmpty: Bool { text.isEmpty && logprobs.isEmpty }
    }

    public let parameters: GenerateParameters
    let eosTokenID: Int?
    var sampler: Sampler
    var detokenizer: StreamingDetokenizer
    var stop: StopCondition
    var history: [Int]
    var unreported: [TokenLogprob] = []
    public private(set) var tokens: [Int] = []
    public private(set) var text = ""
    /// One per token of `tokens`, and one more for the end-of-sequence token when it ended the sequence.
    public private(set) var logprobs: [TokenLogprob] = []
    /// Set once the sequence is finished; then `nextInput` is nil.
    public private(set) var stopReason: StopReason?

    public init(tokenizer: Tokenizer, prompt: [Int], parameters: GenerateParameters, eosTokenID: Int?) {
        self.parameters = parameters
        self.eosTokenID = eosTokenID
        sampler = Sampler(parameters)
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        stop = StopCondition(stopStrings: parameters.stopStrings)
        history = prompt
    }

    /// The token to feed the model next: the last one picked, while the sequence goes on.
    public var nextInput: Int? { stopReason == nil ? tokens.last : nil }

    /// Picks the next token from `logits` [V] (those that predict it). With max tokens already reached
    /// (max_tokens 0) it only finishes the sequence.
    public mutating func accept(_ logits: Tensor) -> Piece {
        precondition(stopReason == nil, "accept: the sequence is finished")
        guard tokens.count < parameters.maxTokens else { return finish(.maxTokens) }
        let token = sampler.next(logits, history: history)
        history.append(token)
        // The end-of-sequence token is not part of the text or `tokens`, but its log-probability is reported (as
        // vLLM does): lm-eval's scoring drops the last entry as the generated token.
        if let k = parameters.logprobs { unreported.append(TokenLogprob(logits: logits.data, token: token, top: k)) }
        if parameters.stopAtEOS, token == eosTokenID { return finish(.endOfSequence) }
        tokens.append(token)
        let piece = release(stop.append(detokenizer.append(token)))
        if let matched = stop.matched { return merge(piece, finish(.stopString(matched))) }
        if tokens.count == parameters.maxTokens { return merge(piece, finish(.maxTokens)) }
        return piece
    }

    /// Ends the sequence because its consumer went away.
    public mutating func cancel() -> Piece { finish(.cancelled) }

    /// Flushes what is held back (unless a stop string matched) and records why the sequence ended.
    mutating func finish(_ reason: StopReason) -> Piece {
        var piece = Piece()
        if stop.matched == nil {
            piece = merge(release(stop.append(detokenizer.finish())), release(stop.finish()))
        }
        stopReason = stop.matched.map { .stopString($0) } ?? reason
        piece.logprobs += unreported
        logprobs += unreported
        unreported = []
        return piece
    }

    /// `text` as a piece, carrying the unreported log-probabilities when there is text to carry them.
    mutating func release(_ text: String) -> Piece {
        guard !text.isEmpty else { return Piece() }
        self.text += text
        defer { logprobs += unreported; unreported = [] }
        return Piece(text: text, logprobs: unreported)
    }

    func merge(_ a: Piece, _ b: Piece) -> Piece { Piece(text: a.text + b.text, logprobs: a.logprobs + b.logprobs) }
}
