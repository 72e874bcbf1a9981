import Tokenization

/// Prompt + response + EOS with the loss on the response and EOS only (labels −100 on the prompt, as the
/// official training code), cut to `maxLength` the official way.
public enum InstructionExamples {
    /// Tokens of the prompt's head that a cut always keeps.
    public static let keptHead = 1000

    /// The official cut (lblankl/ReMamba, dataset/NotemplateOrca.py and dataset/Orca.py `__call__`): when
    /// prompt + response + EOS is longer than `maxLength` by `excess`, the prompt keeps its first 1000
    /// tokens and its tail, dropping prompt[1000 ..< 1000 + excess]. When the prompt is too short for that
    /// (Orca.py then keeps the whole over-long sequence; NotemplateOrca.py would drop the response), the
    /// response keeps at most its first max(maxLength / 2, room left by the prompt) tokens and the prompt
    /// keeps its head and tail, half each (at most 1000 of head), so that no example exceeds `maxLength` (our
    /// memory bound) and every example has a target.
    public static func example(prompt: [Int], response: [Int], endOfSequence: Int, maxLength: Int) -> TrainingExample {
        var prompt = prompt
        var response = response + [endOfSequence]
        let excess = prompt.count + response.count - maxLength
        if excess > 0 && prompt.count > keptHead + excess {
            prompt.removeSubrange(keptHead..<(keptHead + excess))
        } else if excess > 0 {
            response = Array(response.prefix(max(maxLength / 2, maxLength - prompt.count)))
            let room = maxLength - response.count
            if prompt.count > room {
                let head = min(keptHead, room / 2)
                prompt = Array(prompt.prefix(head) + prompt.suffix(room - head))
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
