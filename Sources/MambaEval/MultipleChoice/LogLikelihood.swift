import Foundation
import MambaLM
import TensorCore
import Tokenization

/// Log-likelihood of a continuation given a context, as the LM evaluation harness requests it: prefill the
/// context (a ReMamba model compresses it there), then step through the continuation tokens summing the
/// log-softmax of each. Tokenization follows the harness's `_encode_pair`.
public enum LogLikelihood {
    /// lm-eval's `_encode_pair`: trailing spaces of the context move to the continuation; the continuation
    /// tokens are those of encode(context + continuation) after the first len(encode(context)). An empty
    /// context becomes the end-of-text token.
    public static func encodePair(context: String, continuation: String, tokenizer: Tokenizer, endOfText: Int) -> (context: [Int], continuation: [Int]) {
        if context.isEmpty { return ([endOfText], tokenizer.encode(continuation)) }
        let scalars = Array(context.unicodeScalars)
        var cut = scalars.count
        while cut > 0, PythonText.isSpace(scalars[cut - 1]) { cut -= 1 }
        var head = String.UnicodeScalarView(), moved = String.UnicodeScalarView()
        head.append(contentsOf: scalars[..<cut]); moved.append(contentsOf: scalars[cut...])
        let ctx = String(head), cont = String(moved) + continuation
        let whole = tokenizer.encode(ctx + cont)
        let contextIDs = tokenizer.encode(ctx)
        return (contextIDs, Array(whole.dropFirst(contextIDs.count)))
    }

    /// Σ log p(continuation[k] | context, continuation[..<k]) and whether every token was the argmax.
    public static func score(model: any LanguageModel, context: [Int], continuation: [Int]) throws -> (logLikelihood: Double, isGreedy: Bool) {
        var state = model.makeState()
        var logits = try model.prefill(context, state: &state)
        var total = 0.0, greedy = true
        for (k, token) in continuation.enumerated() {
            let (logProbability, isArgmax) = logSoftmax(logits.data, at: token)
            total += logProbability
            greedy = greedy && isArgmax
            if k + 1 < continuation.count { logits = model.step(token, state: &state) }
        }
        return (total, greedy)
    }

    /// log softmax(logits)[index] in double precision, and whether `index` is the (first) argmax.
    static func logSoftmax(_ logits: [Float], at index: Int) -> (Double, Bool) {
        var maximum = -Double.infinity, argmax = 0
        for (i, v) in logits.enumerated() where Double(v) > maximum { maximum = Double(v); argmax = i }
        var sum = 0.0
        for v in logits { sum += Foundation.exp(Double(v) - maximum) }
        return (Double(logits[index]) - maximum - Foundation.log(sum), argmax == index)
    }
}

/// acc and acc_norm as the harness defines them: argmax of the summed log-likelihoods, and argmax of the
/// log-likelihoods divided by the choice lengths in characters (first index wins ties, as np.argmax).
public enum MultipleChoiceScoring {
    public static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for (i, v) in values.enumerated() where v > values[best] { best = i }
        return best
    }

    public static func predictions(logLikelihoods: [Double], choiceLengths: [Int]) -> (acc: Int, accNorm: Int) {
        let normalized = zip(logLikelihoods, choiceLengths).map { $0 / Double($1) }
        return (argmax(logLikelihoods), argmax(normalized))
    }
}

