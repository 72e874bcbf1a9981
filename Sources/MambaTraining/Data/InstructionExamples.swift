import Tokenization

/// Prompt + response + EOS with the loss on the response and EOS only (labels −100 on the prompt, as the
/// official training code), cut to `maxLength` the official way.
public enum InstructionExamples {
    /// Tokens of the prompt's head that a cut always keeps.
    public static let keptHead = 1000

    /// The official cut (lblankl/ReMamba, dataset/NotemplateOrca.py and dataset/Orca.py `__call__`): when
    /// prompt + response + EOS is longer than `maxLength` by `excess`, the prompt keeps its first 1000
    /// tokens and its tail, dropping prompt[1000 ..< 1000 + excess]. Orca.py cuts only when the prompt is
    /// longer than 1000 + excess; otherwise it keeps the whole sequence — here the response's end is cut
    /// instead, so that no example exceeds `maxLength` (our memory bound).
    public static func example(prompt: [Int], response: [Int], endOfSequence: Int, maxLength: Int) -> TrainingExample {
        var prompt = prompt
        var response = response + [endOfSequence]
        let excess = prompt.count + response.count - maxLength
        if excess > 0 {
            if prompt.count > keptHead + excess {
                prompt.removeSubrange(keptHead..<(keptHead + excess))
            } else {
                response = Array(response.prefix(max(0, maxLength - prompt.count)))
                if prompt.count > maxLength { prompt = Array(prompt.prefix(maxLength)) }
            }
        }
        let ids = prompt + response
        // Position t predicts ids[t + 1] (labels shifted inside the model); prompt labels are ignored.
        let targets: [Int?] = ids.indices.map { t in t + 1 < ids.count && t + 1 >= prompt.count ? ids[t + 1] : nil }
        return TrainingExample(ids: ids, targets: targets, promptLength: prompt.count)
    }

    /// Tokenized as the official code: the prompt with the tokenizer's special tokens, the response without.
    public static func example(prompt: String, response: String, tokenizer: Tokenizer, maxLength: Int) throws -> TrainingExample {
        guard let eos = tokenizer.eosTokenID else { throw TrainingDataError.noEndOfSequenceToken }
        return example(prompt: tokenizer.encode(prompt, addSpecialTokens: true),
                       response: tokenizer.encode(response, addSpecialTokens: false),
                       endOfSequence: eos, maxLength: maxLength)
    }
}
