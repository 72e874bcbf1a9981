import Foundation

/// The configuration of a Llama language model (Hugging Face `LlamaForCausalLM`), mirroring
/// `LlamaConfig`'s keys. The rotary embedding's settings are read from transformers 5's
/// `rope_parameters`; `ConfigurationFile+Llama` maps the 4.x spelling (`rope_theta`, `rope_scaling`) onto it.
public struct LlamaConfiguration: Codable, Sendable, Equatable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numberOfLayers: Int
    public var numberOfHeads: Int
    public var numberOfKeyValueHeads: Int
    public var headDimension: Int
    public var maxPositionEmbeddings: Int
    public var rmsNormEpsilon: Float
    public var tieWordEmbeddings: Bool
    public var attentionBias: Bool
    public var mlpBias: Bool
    public var rotary: RotaryConfiguration
    public var bosTokenID: Int?
    public var eosTokenID: Int?
    public var padTokenID: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numberOfLayers = "num_hidden_layers"
        case numberOfHeads = "num_attention_heads"
        case numberOfKeyValueHeads = "num_key_value_heads"
        case headDimension = "head_dim"
        case maxPositionEmbeddings = "max_position_embeddings"
        case rmsNormEpsilon = "rms_norm_eps"
        case tieWordEmbeddings = "tie_word_embeddings"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case rotary = "rope_parameters"
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
        case padTokenID = "pad_token_id"
    }

    public init(vocabularySize: Int, hiddenSize: Int, intermediateSize: Int, numberOfLayers: Int, numberOfHeads: Int,
                numberOfKeyValueHeads: Int? = nil, headDimension: Int? = nil, maxPositionEmbeddings: Int = 2048,
                rmsNormEpsilon: Float = 1e-6, tieWordEmbeddings: Bool = false, attentionBias: Bool = false,
                mlpBias: Bool = false, rotary: RotaryConfiguration = RotaryConfiguration(),
                bosTokenID: Int? = 1, eosTokenID: Int? = 2, padTokenID: Int? = nil) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numberOfLayers = numberOfLayers
        self.numberOfHeads = numberOfHeads
        self.numberOfKeyValueHeads = numberOfKeyValueHeads ?? numberOfHeads
        self.headDimension = headDimension ?? hiddenSize / max(numberOfHeads, 1)
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.rmsNormEpsilon = rmsNormEpsilon
        self.tieWordEmbeddings = tieWordEmbeddings
        self.attentionBias = attentionBias
        self.mlpBias = mlpBias
        self.rotary = rotary
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.padTokenID = padTokenID
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let heads = try c.decode(Int.self, forKey: .numberOfHeads)
        self.init(vocabularySize: try c.decode(Int.self, forKey: .vocabularySize),
                  hiddenSize: try c.decode(Int.self, forKey: .hiddenSize),
                  intermediateSize: try c.decode(Int.self, forKey: .intermediateSize),
                  numberOfLayers: try c.decode(Int.self, forKey: .numberOfLayers),
                  numberOfHeads: heads,
                  numberOfKeyValueHeads: try c.decodeIfPresent(Int.self, forKey: .numberOfKeyValueHeads),
                  headDimension: try c.decodeIfPresent(Int.self, forKey: .headDimension),
                  maxPositionEmbeddings: try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048,
                  rmsNormEpsilon: try c.decodeIfPresent(Float.self, forKey: .rmsNormEpsilon) ?? 1e-6,
                  tieWordEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false,
                  attentionBias: try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false,
                  mlpBias: try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? false,
                  rotary: try c.decodeIfPresent(RotaryConfiguration.self, forKey: .rotary) ?? RotaryConfiguration(),
                  bosTokenID: try c.decodeIfPresent(Int.self, forKey: .bosTokenID) ?? 1,
                  eosTokenID: try c.decodeIfPresent(Int.self, forKey: .eosTokenID) ?? 2,
                  padTokenID: try c.decodeIfPresent(Int.self, forKey: .padTokenID))
    }

    /// Every value a model can be built with; the message names the key as config.json spells it.
    public func validate() throws(ConfigurationError) {
        let sizes: [(Int, CodingKeys)] = [
            (vocabularySize, .vocabularySize), (hiddenSize, .hiddenSize), (intermediateSize, .intermediateSize),
            (numberOfLayers, .numberOfLayers), (numberOfHeads, .numberOfHeads), (numberOfKeyValueHeads, .numberOfKeyValueHeads),
            (headDimension, .headDimension), (maxPositionEmbeddings, .maxPositionEmbeddings),
        ]
        for (value, key) in sizes { _ = try ConfigurationLimits.check(value, key: key.rawValue) }
        if numberOfHeads % numberOfKeyValueHeads != 0 {
            throw .invalidValue(key: CodingKeys.numberOfKeyValueHeads.rawValue, value: "\(numberOfKeyValueHeads)",
                                expected: "a divisor of num_attention_heads = \(numberOfHeads)")
        }
        if headDimension % 2 != 0 {
            throw .invalidValue(key: CodingKeys.headDimension.rawValue, value: "\(headDimension)", expected: "an even number (rotary pairs)")
        }
        if !(rmsNormEpsilon > 0 && rmsNormEpsilon.isFinite) {
            throw .invalidValue(key: CodingKeys.rmsNormEpsilon.rawValue, value: "\(rmsNormEpsilon)", expected: "a positive number")
        }
        try rotary.validate()
    }
}
