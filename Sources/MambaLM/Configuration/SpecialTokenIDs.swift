/// `bos_token_id`, `eos_token_id` and `pad_token_id` of config.json, bounded by `vocab_size` as transformers
/// treats them (checked with transformers 5.25 and torch 2.13):
/// - transformers warns about any of them outside 0 ..< vocab_size ("must be None or an integer within the
///   vocabulary") and goes on; generation with such an eos never stops at it. Here: the same warning, naming
///   the file and the key, and the id is ignored (this engine reads only eos, to stop generation);
/// - except Llama's `pad_token_id`, the `padding_idx` of its embedding: PyTorch refuses one outside
///   −vocab_size ..< vocab_size when transformers builds the model ("Padding_idx must be within
///   num_embeddings"). Here: an error naming the file and the key.
protocol SpecialTokenIDs {
    var vocabularySize: Int { get }
    var bosTokenID: Int? { get set }
    var eosTokenID: Int? { get set }
    var padTokenID: Int? { get set }
    /// Whether `pad_token_id` indexes the embedding (transformers' `padding_idx`).
    static var padIndexesEmbedding: Bool { get }
}

extension MambaConfiguration: SpecialTokenIDs { static let padIndexesEmbedding = false }
extension Mamba2Configuration: SpecialTokenIDs { static let padIndexesEmbedding = false }
extension LlamaConfiguration: SpecialTokenIDs { static let padIndexesEmbedding = true }

extension SpecialTokenIDs {
    /// Ids outside 0 ..< vocab_size dropped (nil), each with a warning naming `path` and the key; throws for a
    /// padding index PyTorch would refuse.
    mutating func bounded(path: String) throws(LoadingError) -> [String] {
        let valid = 0..<vocabularySize
        if Self.padIndexesEmbedding, let pad = padTokenID, !(-vocabularySize..<vocabularySize).contains(pad) {
            throw .invalidValue(path: path, key: "pad_token_id", value: "\(pad)",
                                expected: "an id in -\(vocabularySize) ..< \(vocabularySize) (the padding row of the embedding, vocab_size \(vocabularySize))")
        }
        var warnings: [String] = []
        func check(_ id: inout Int?, _ key: String, _ consequence: String) {
            guard let value = id, !valid.contains(value) else { return }
            warnings.append("\(path): \"\(key)\" is \(value), outside the vocabulary 0 ..< \(valid.upperBound): ignored (\(consequence))")
            id = nil
        }
        check(&eosTokenID, "eos_token_id", "generation stops only at max tokens or a stop string")
        check(&bosTokenID, "bos_token_id", "the engine does not read it; the tokenizer adds its own")
        check(&padTokenID, "pad_token_id", "the engine does not read it")
        return warnings
    }
}

extension ModelConfiguration {
    /// Bounds the special token ids of the architecture's configuration (`SpecialTokenIDs`), collecting warnings.
    mutating func boundSpecialTokenIDs(path: String) throws(LoadingError) {
        switch architecture {
        case .mamba(var c): warnings += try c.bounded(path: path); architecture = .mamba(c)
        case .mamba2(var c): warnings += try c.bounded(path: path); architecture = .mamba2(c)
        case .llama(var c): warnings += try c.bounded(path: path); architecture = .llama(c)
        }
    }
}
