/// What `encode(addSpecialTokens: true)` wraps around a single sequence: nothing for ByteLevel
/// (it only adjusts offsets), the special tokens of a TemplateProcessing "single" template, or
/// cls … sep for Roberta/Bert processing. Pair templates are not used by this engine.
struct PostProcessor: Sendable {
    /// Ids before and after the sequence.
    let prefix: [Int]
    let suffix: [Int]

    init(_ json: PostProcessorJSON?) throws {
        var prefix: [Int] = []
        var suffix: [Int] = []
        func add(_ json: PostProcessorJSON) throws {
            switch json {
            case .byteLevel:
                break
            case .clsSep(let cls, let sep):
                prefix = [cls] + prefix
                suffix.append(sep)
            case .template(let single, let specialTokens):
                var seenSequence = false
                var before: [Int] = [], after: [Int] = []
                for piece in single {
                    switch piece {
                    case .sequence:
                        seenSequence = true
                    case .specialToken(let name):
                        guard let ids = specialTokens[name] else {
                            throw TokenizerFileProblem.inconsistent("post_processor template names \"\(name)\", which is not in its special_tokens")
                        }
                        if seenSequence { after += ids } else { before += ids }
                    }
                }
                prefix = before + prefix
                suffix += after
            case .sequence(let processors):
                for processor in processors { try add(processor) }
            }
        }
        if let json { try add(json) }
        // Bounded as the vocabulary's ids are (`tokenizers` refuses ids beyond u32).
        if let id = (prefix + suffix).first(where: { !(0...Tokenizer.maxTokenID).contains($0) }) {
            throw TokenizerFileProblem.inconsistent("post_processor has special token id \(id), outside 0 … \(Tokenizer.maxTokenID)")
        }
        self.prefix = prefix
        self.suffix = suffix
    }
}
