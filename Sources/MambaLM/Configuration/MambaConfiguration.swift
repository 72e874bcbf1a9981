import Foundation

/// The configuration of a Mamba (v1) language model, mirroring Hugging Face's `MambaConfig` keys.
/// The original state-spaces layout (`d_model`, `n_layer`, `ssm_cfg`, …) is mapped onto it in
/// `ConfigurationFile`, the one place that knows both spellings.
public struct MambaConfiguration: Codable, Sendable, Equatable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var stateSize: Int
    public var numberOfLayers: Int
    public var layerNormEpsilon: Float
    public var expand: Int
    public var convolutionKernel: Int
    public var useBias: Bool
    public var useConvolutionBias: Bool
    /// `time_step_rank`: an integer or "auto" (= ceil(hidden_size / 16)).
    public var timeStepRank: Int
    public var residualInFloat32: Bool
    public var tieWordEmbeddings: Bool
    public var bosTokenID: Int?
    public var eosTokenID: Int?
    public var padTokenID: Int?

    /// E, the width of the mixer.
    public var innerSize: Int { expand * hiddenSize }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case stateSize = "state_size"
        case numberOfLayers = "num_hidden_layers"
        case layerNormEpsilon = "layer_norm_epsilon"
        case expand
        case convolutionKernel = "conv_kernel"
        case useBias = "use_bias"
        case useConvolutionBias = "use_conv_bias"
        case timeStepRank = "time_step_rank"
        case residualInFloat32 = "residual_in_fp32"
        case tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
        case padTokenID = "pad_token_id"
    }

    public init(vocabularySize: Int, hiddenSize: Int, stateSize: Int = 16, numberOfLayers: Int,
                layerNormEpsilon: Float = 1e-5, expand: Int = 2, convolutionKernel: Int = 4,
                useBias: Bool = false, useConvolutionBias: Bool = true, timeStepRank: Int? = nil,
                residualInFloat32: Bool = true, tieWordEmbeddings: Bool = true,
                bosTokenID: Int? = 0, eosTokenID: Int? = 0, padTokenID: Int? = 0) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.stateSize = stateSize
        self.numberOfLayers = numberOfLayers
        self.layerNormEpsilon = layerNormEpsilon
        self.expand = expand
        self.convolutionKernel = convolutionKernel
        self.useBias = useBias
        self.useConvolutionBias = useConvolutionBias
        self.timeStepRank = timeStepRank ?? hiddenSize / 16 + (hiddenSize % 16 == 0 ? 0 : 1)  // ⌈D/16⌉ without overflow
        self.residualInFloat32 = residualInFloat32
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.padTokenID = padTokenID
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let hidden = try c.decode(Int.self, forKey: .hiddenSize)
        var rank: Int? = nil
        if let text = try? c.decodeIfPresent(String.self, forKey: .timeStepRank) {
            guard text == "auto" else {
                throw DecodingError.dataCorruptedError(forKey: .timeStepRank, in: c,
                                                       debugDescription: "expected an integer or \"auto\", got \"\(text)\"")
            }
        } else {
            rank = try c.decodeIfPresent(Int.self, forKey: .timeStepRank)
        }
        self.init(vocabularySize: try c.decode(Int.self, forKey: .vocabularySize),
                  hiddenSize: hidden,
                  stateSize: try c.decodeIfPresent(Int.self, forKey: .stateSize) ?? 16,
                  numberOfLayers: try c.decode(Int.self, forKey: .numberOfLayers),
                  layerNormEpsilon: try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-5,
                  expand: try c.decodeIfPresent(Int.self, forKey: .expand) ?? 2,
                  convolutionKernel: try c.decodeIfPresent(Int.self, forKey: .convolutionKernel) ?? 4,
                  useBias: try c.decodeIfPresent(Bool.self, forKey: .useBias) ?? false,
                  useConvolutionBias: try c.decodeIfPresent(Bool.self, forKey: .useConvolutionBias) ?? true,
                  timeStepRank: rank,
                  residualInFloat32: try c.decodeIfPresent(Bool.self, forKey: .residualInFloat32) ?? true,
                  tieWordEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? true,
                  bosTokenID: try c.decodeIfPresent(Int.self, forKey: .bosTokenID) ?? 0,
                  eosTokenID: try c.decodeIfPresent(Int.self, forKey: .eosTokenID) ?? 0,
                  padTokenID: try c.decodeIfPresent(Int.self, forKey: .padTokenID) ?? 0)
    }

    /// Every value a model can be built with; the message names the key as config.json spells it.
    public func validate() throws(ConfigurationError) {
        for (value, key) in [(vocabularySize, CodingKeys.vocabularySize), (hiddenSize, .hiddenSize), (stateSize, .stateSize),
                             (numberOfLayers, .numberOfLayers), (expand, .expand), (convolutionKernel, .convolutionKernel),
                             (timeStepRank, .timeStepRank)] {
            _ = try ConfigurationLimits.check(value, key: key.rawValue)
        }
        if !(layerNormEpsilon > 0 && layerNormEpsilon.isFinite) {
            throw .invalidValue(key: CodingKeys.layerNormEpsilon.rawValue, value: "\(layerNormEpsilon)", expected: "a positive number")
        }
    }
}
