import Foundation
import MambaLM
import TensorCore
import Tokenization

/// The sequences in flight and the prompt cache, owned by the scheduler's thread (`BatchScheduler`). Each
/// sequence has its own state, sampler, stop strings, max tokens and seed (`SequenceDecoder`). Every iteration:
///   1. admits waiting requests while fewer than `parallel` sequences are in flight;
///   2. prefills joining prompts, at most `prefillChunk` prompt tokens in all (a long prompt takes several
///      iterations, so it never freezes the other streams; ReMamba prompts are prefilled whole: stage 1 reads all);
///   3. steps every decoding sequence together, one token each: `LanguageModel.step(_:states:)`, logits [B, V].
/// A finished or cancelled sequence leaves at once. States are stored in the prompt cache at chunk boundaries and
/// at the end of every prompt and completion.
final class BatchLoop {
    /// One request's sequence.
    final class Sequence {
        let request: BatchScheduler.Request
        var state: ModelState
        /// The ids the state covers (the prompt so far, then the fed completion tokens).
        var covered: [Int] = []
        /// [V] logits after `covered`, once the prompt is done.
        var logits: Tensor?
        var scores: [TokenLogprob?] = []
        var lastRow: [Float]?
        var decoder: SequenceDecoder
        var cachedTokens = 0
        var promptDone: ContinuousClock.Instant?
        /// Finished, failed or cancelled: leaves the batch.
        var done = false

        init(_ request: BatchScheduler.Request, model: any LanguageModel, tokenizer: Tokenizer) {
            self.request = request
            state = model.makeState()
            decoder = SequenceDecoder(tokenizer: tokenizer, prompt: request.prompt, parameters: request.parameters, eosTokenID: model.eosTokenID)
        }

        var prompt: [Int] { request.prompt }
        var prefilling: Bool { logits == nil }
    }

    let model: any LanguageModel
    let tokenizer: Tokenizer
    let parallel: Int
    let prefillChunk: Int
    let cache: PromptCache
    private var active: [Sequence] = []

    init(model: any LanguageModel, tokenizer: Tokenizer, parallel: Int, prefillChunk: Int, cache: PromptCache) {
        (self.model, self.tokenizer, self.parallel, self.prefillChunk, self.cache) = (model, tokenizer, parallel, prefillChunk, cache)
    }

    /// Admits waiting requests, then runs one prefill budget and one decode step; waits for a request while
    /// there is nothing to do.
    func iterate(_ scheduler: BatchScheduler) {
        active += scheduler.admit(upTo: parallel - active.count).map { Sequence($0, model: model, tokenizer: tokenizer) }
        if active.isEmpty { return scheduler.waitForArrival() }
        for sequence in active where sequence.request.cancelled.isSet && !sequence.done { finish(sequence, sequence.decoder.cancel()) }
        prefill()
        decode()
        active.removeAll(where: \.done)
    }

    /// Up to `prefillChunk` prompt tokens of the joining sequences, oldest first.
    private func prefill() {
        var budget = prefillChunk
        for sequence in active where sequence.prefilling && !sequence.done && budget > 0 {
            do {
                if sequence.covered.isEmpty && !sequence.request.promptLogprobs { resume(sequence) }
                while sequence.prefilling && budget > 0 {
                    budget -= try prefillPiece(sequence, budget: budget)
                }
            } catch {
                sequence.done = true
                sequence.request.continuation.finish(throwing: error)
                continue
            }
            if !sequence.prefilling { started(sequence) }
        }
    }

    /// Starts from the longest cached prefix of the prompt, if any.
    private func resume(_ sequence: Sequence) {
        guard let entry = cache.longestPrefix(of: sequence.prompt) else { return }
        sequence.state = entry.state
        sequence.covered = entry.ids
        sequence.cachedTokens = entry.ids.count
        if entry.ids.count == sequence.prompt.count { sequence.logits = entry.logits }
    }

    /// Feeds the next piece of the prompt (at most `budget` tokens; a ReMamba prompt whole); returns its length.
    private func prefillPiece(_ sequence: Sequence, budget: Int) throws -> Int {
        let begin = sequence.covered.count
        let pieceLength = model.prefillsInPieces || begin > 0 ? min(budget, sequence.prompt.count - begin) : sequence.prompt.count
        let piece = Array(sequence.prompt[begin..<(begin + pieceLength)])
        if sequence.request.promptLogprobs, let plain = model as? any Backbone {
            try plain.checkTokens(piece)
            let rows = plain.forward(piece, state: &sequence.state)                            // [n, V]
            for i in piece.indices {
                let previous = i == 0 ? sequence.lastRow : Array(rows.row(i - 1))
                let k = sequence.request.parameters.logprobs ?? 0
                sequence.scores.append(previous.map { TokenLogprob(logits: $0, token: piece[i], top: k) })
            }
            sequence.lastRow = Array(rows.row(rows.rows - 1))
            sequence.covered += piece
            if sequence.covered.count == sequence.prompt.count {
                sequence.logits = Tensor(shape: [rows.columns], data: sequence.lastRow!)
                cache.store(ids: sequence.covered, state: sequence.state, logits: sequence.logits!)
            }
        } else {
            let logits = begin == 0 ? try model.prefill(piece, state: &sequence.state) : try model.continueSequence(piece, state: &sequence.state)
            sequence.covered += piece
            if sequence.covered.count == sequence.prompt.count { sequence.logits = logits }
            if model.prefillsInPieces || sequence.covered.count == sequence.prompt.count {
                cache.store(ids: sequence.covered, state: sequence.state, logits: logits)
            }
        }
        return pieceLength
    }

    /// The prompt is done: report its log-probabilities (when asked) and pick the first token.
    private func started(_ sequence: Sequence) {
        sequence.promptDone = ContinuousClock.now
        if sequence.request.promptLogprobs { sequence.request.continuation.yield(.prompt(sequence.scores)) }
        accept(sequence, sequence.logits!)
    }

    /// One token for every decoding sequence, in one batched step.
    private func decode() {
        let batch = active.filter { !$0.prefilling && !$0.done && $0.decoder.nextInput != nil }
        guard !batch.isEmpty else { return }
        let ids = batch.map { $0.decoder.nextInput! }
        // Each state moves into the batch (no second reference, so the step updates it in place) and back.
        var states = batch.map { sequence in defer { sequence.state = Self.moved }; return sequence.state }
        let rows = model.step(ids, states: &states)                                             // [B, V]
        for (b, sequence) in batch.enumerated() {
            sequence.state = states[b]
            sequence.covered.append(ids[b])
            accept(sequence, Tensor(shape: [rows.columns], data: Array(rows.row(b))))
        }
    }

    /// Lets the decoder pick a token from `logits` (those after `covered`); sends what it releases.
    private func accept(_ sequence: Sequence, _ logits: Tensor) {
        sequence.logits = logits
        let piece = sequence.decoder.accept(logits)
        if sequence.decoder.stopReason != nil {
            cache.store(ids: sequence.covered, state: sequence.state, logits: logits)
            finish(sequence, piece)
        } else if !piece.isEmpty {
            sequence.request.continuation.yield(.piece(piece))
        }
    }

    /// What a sequence holds while its state is inside a batched step.
    private static let moved = ModelState(layers: [])

    private func finish(_ sequence: Sequence, _ piece: SequenceDecoder.Piece) {
        sequence.done = true
        let continuation = sequence.request.continuation
        if !piece.isEmpty { continuation.yield(.piece(piece)) }
        let now = ContinuousClock.now
        let promptDone = sequence.promptDone ?? now
        var result = GenerationResult(sequence.decoder, promptTokenCount: sequence.prompt.count,
                                      promptSeconds: TextGeneration.seconds(promptDone - sequence.request.arrival),
                                      generationSeconds: TextGeneration.seconds(now - promptDone))
        result.cachedTokenCount = sequence.cachedTokens
        continuation.yield(.finished(result))
        continuation.finish()
    }
}
