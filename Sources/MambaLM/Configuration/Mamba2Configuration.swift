import Foundation
import TensorCore

/// The configuration of a Mamba-2 language model, mirroring Hugging Face's `Mamba2Config` keys. The
/// original state-spaces layout (`d_model`, `n_layer`, `ssm_cfg.layer = "Mamba2"`, …) is mapped onto it
/// in `ConfigurationFile`. Legend: D d_model, E d_inner = H·P, H heads, P head_dim, G groups, N d_state.
public struct Mamba2Configuration: Codable, Sendable, Equatable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var stateSize: Int
    public var numberOfLayers: Int
    public var layerNormEpsilon: Float
    public var expand: Int
    public var convolutionKernel: Int
    public var numberOfHeads: Int
    public var headDimension: Int
    public var numberOfGroups: Int
    /// Q of the chunked scan. It does not change the result, only how prefill is computed.
    public var chunkSize: Int
    public var useBias: Bool
    public var useConvolutionBias: Bool
    /// Gated norm order: false = norm(y · SiLU(z)) (mamba_ssm's default, and what transformers always
    /// computes), true = norm(y) · SiLU(z). Only the original layout's `ssm_cfg.norm_before_gate` sets
    /// it: transformers ignores the key of the same name (see `ConfigurationFile`).
    public var normBeforeGate: Bool
    /// Δ is clamped to [lower, upper] after the softplus; (0, ∞) means no clamping.
    public var timeStepLimit: ClosedRange<Float>
    public var residualInFloat32: Bool
    public var tieWordEmbeddings: Bool
    public var bosTokenID: Int?
    /// `eos_token_id` may be a list in config.json; the first entry is kept.
    public var eosTokenID: Int?
    public var padTokenID: Int?

    /// E, the width of the mixer (= H·P).
    public var innerSize: Int { numberOfHeads * headDimension }
    /// Channels of the causal conv: x, B and C together, E + 2·G·N.
    public var convolutionDimension: Int { innerSize + 2 * numberOfGroups * stateSize }
    /// Output width of in_proj: z (E), xBC (E + 2·G·N), dt (H).
    public var inProjectionSize: Int { innerSize + convolutionDimension + numberOfHeads }
    /// Channels normalized together by the gated RMSNorm, E / G.
    public var normGroupSize: Int { innerSize / numberOfGroups }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case stateSize = "state_size"
        case numberOfLayers = "num_hidden_layers"
        case layerNormEpsilon = "layer_norm_epsilon"
        case expand
        case convolutionKernel = "conv_kernel"
        case numberOfHeads = "num_heads"
        case headDimension = "head_dim"
        case numberOfGroups = "n_groups"
        case chunkSize = "chunk_size"
        case useBias = "use_bias"
        case useConvolutionBias = "use_conv_bias"
        case normBeforeGate = "norm_before_gate"
        case timeStepLimit = "time_step_limit"
        case residualInFloat32 = "residual_in_fp32"
        case tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
        case padTokenID = "pad_token_id"
    }

    /// Defaults are `Mamba2Config`'s, except that heads follow from the other sizes when not given.
    public init(vocabularySize: Int, hiddenSize: Int, stateSize: Int = 128, numberOfLayers: Int,
                layerNormEpsilon: Float = 1e-5, expand: Int = 2, convolutionKernel: Int = 4,
                numberOfHeads: Int? = nil, headDimension: Int = 64, numberOfGroups: Int = 8, chunkSize: Int = 256,
                useBias: Bool = false, useConvolutionBias: Bool = true, normBeforeGate: Bool = false,
                timeStepLimit: ClosedRange<Float> = 0...Float.infinity, residualInFloat32: Bool = true,
                tieWordEmbeddings: Bool = false, bosTokenID: Int? = 0, eosTokenID: Int? = 2, padTokenID: Int? = 1) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.stateSize = stateSize
        self.numberOfLayers = numberOfLayers
        self.layerNormEpsilon = layerNormEpsilon
        self.expand = expand
        self.convolutionKernel = convolutionKernel
        // Overflowing sizes give 0 heads here; `validate` refuses them by name first.
        self.numberOfHeads = numberOfHeads ?? (CheckedSize.product(expand, hiddenSize).map { $0 / max(headDimension, 1) } ?? 0)
        self.headDimension = headDimension
        self.numberOfGroups = numberOfGroups
        self.chunkSize = chunkSize
        self.useBias = useBias
        self.useConvolutionBias = useConvolutionBias
        self.normBeforeGate = normBeforeGate
        self.timeStepLimit = timeStepLimit
        self.residualInFloat32 = residualInFloat32
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.padTokenID = padTokenID
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var limit: ClosedRange<Float> = 0...Float.infinity
        if let pair = try c.decodeIfPresent([ConfigurationFloat].self, forKey: .timeStepLimit) {
            guard pair.count == 2, pair[0].value <= pair[1].value else {
                throw DecodingError.dataCorruptedError(forKey: .timeStepLimit, in: c,
                                                       debugDescription: "[lower, upper] with lower ≤ upper")
            }
            limit = pair[0].value...pair[1].value
        }
        var eos: Int? = 2
        if c.contains(.eosTokenID) {
            if try c.decodeNil(forKey: .eosTokenID) { eos = nil }
            else if let single = try? c.decode(Int.self, forKey: .eosTokenID) { eos = single }
            else { eos = try c.decode([Int].self, forKey: .eosTokenID).first }
        }
        let expand = try c.decodeIfPresent(Int.self, forKey: .expand) ?? 2
        self.init(vocabularySize: try c.decode(Int.self, forKey: .vocabularySize),
                  hiddenSize: try c.decode(Int.self, forKey: .hiddenSize),
                  stateSize: try c.decodeIfPresent(Int.self, forKey: .stateSize) ?? 128,
                  numberOfLayers: try c.decode(Int.self, forKey: .numberOfLayers),
                  layerNormEpsilon: try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-5,
                  expand: expand,
                  convolutionKernel: try c.decodeIfPresent(Int.self, forKey: .convolutionKernel) ?? 4,
                  numberOfHeads: try c.decodeIfPresent(Int.self, forKey: .numberOfHeads),
                  headDimension: try c.decodeIfPresent(Int.self, forKey: .headDimension) ?? 64,
                  numberOfGroups: try c.decodeIfPresent(Int.self, forKey: .numberOfGroups) ?? 8,
                  chunkSize: try c.decodeIfPresent(Int.self, forKey: .chunkSize) ?? 256,
                  useBias: try c.decodeIfPresent(Bool.self, forKey: .useBias) ?? false,
                  useConvolutionBias: try c.decodeIfPresent(Bool.self, forKey: .useConvolutionBias) ?? true,
                  normBeforeGate: try c.decodeIfPresent(Bool.self, forKey: .normBeforeGate) ?? false,
                  timeStepLimit: limit,
                  residualInFloat32: try c.decodeIfPresent(Bool.self, forKey: .residualInFloat32) ?? true,
                  tieWordEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false,
                  bosTokenID: try c.decodeIfPresent(Int.self, forKey: .bosTokenID) ?? 0,
                  eosTokenID: eos,
                  padTokenID: try c.decodeIfPresent(Int.self, forKey: .padTokenID) ?? 1)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabularySize, forKey: .vocabularySize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(stateSize, forKey: .stateSize)
        try c.encode(numberOfLayers, forKey: .numberOfLayers)
        try c.encode(layerNormEpsilon, forKey: .layerNormEpsilon)
        try c.encode(expand, forKey: .expand)
        try c.encode(convolutionKernel, forKey: .convolutionKernel)
        try c.encode(numberOfHeads, forKey: .numberOfHeads)
        try c.encode(headDimension, forKey: .headDimension)
        try c.encode(numberOfGroups, forKey: .numberOfGroups)
        try c.encode(chunkSize, forKey: .chunkSize)
        try c.encode(useBias, forKey: .useBias)
        try c.encode(useConvolutionBias, forKey: .useConvolutionBias)
        try c.encode(normBeforeGate, forKey: .normBeforeGate)
        try c.encode([ConfigurationFloat(timeStepLimit.lowerBound), ConfigurationFloat(timeStepLimit.upperBound)],
                     forKey: .timeStepLimit)
        try c.encode(residualInFloat32, forKey: .residualInFloat32)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encodeIfPresent(bosTokenID, forKey: .bosTokenID)
        try c.encodeIfPresent(eosTokenID, forKey: .eosTokenID)
        try c.encodeIfPresent(padTokenID, forKey: .padTokenID)
    }

    /// Every value a model can be built with; the message names the key as config.json spells it.
    public func validate() throws(ConfigurationError) {
        for (value, key) in [(vocabularySize, CodingKeys.vocabularySize), (hiddenSize, .hiddenSize), (stateSize, .stateSize),
                             (numberOfLayers, .numberOfLayers), (expand, .expand), (convolutionKernel, .convolutionKernel),
                             (numberOfHeads, .numberOfHeads), (headDimension, .headDimension), (numberOfGroups, .numberOfGroups)] {
            _ = try ConfigurationLimits.check(value, key: key.rawValue)
        }
        _ = try ConfigurationLimits.check(chunkSize, key: CodingKeys.chunkSize.rawValue, limit: ConfigurationLimits.maxChunkSize)
        if innerSize != expand * hiddenSize {
            throw .invalidValue(key: CodingKeys.numberOfHeads.rawValue, value: "\(numberOfHeads)",
                                expected: "num_heads × head_dim (\(numberOfHeads) × \(headDimension)) = expand × hidden_size (\(expand * hiddenSize))")
        }
        if numberOfHeads % numberOfGroups != 0 {
            throw .invalidValue(key: CodingKeys.numberOfGroups.rawValue, value: "\(numberOfGroups)",
                                expected: "a divisor of num_heads (\(numberOfHeads))")
        }
        if !(timeStepLimit.lowerBound >= 0) || timeStepLimit.upperBound.isNaN {
            throw .invalidValue(key: CodingKeys.timeStepLimit.rawValue, value: "\(timeStepLimit)",
                                expected: "[lower, upper] with 0 ≤ lower ≤ upper")
        }
        if !(layerNormEpsilon > 0 && layerNormEpsilon.isFinite) {
            throw .invalidValue(key: CodingKeys.layerNormEpsilon.rawValue, value: "\(layerNormEpsilon)", expected: "a positive number")
        }
    }
}

/// A float in config.json: a number, or transformers 5's spelling of a non-finite one,
/// `{"__float__": "Infinity"}` (the bare `Infinity` of transformers 4.x is rewritten to this on reading).
struct ConfigurationFloat: Codable {
    let value: Float

    init(_ value: Float) { self.value = value }

    init(from decoder: Decoder) throws {
        if let number = try? decoder.singleValueContainer().decode(Double.self) {
            value = Float(number)
            return
        }
        let object = try decoder.singleValueContainer().decode([String: String].self)
        switch object["__float__"] {
        case "Infinity": value = .infinity
        case "-Infinity": value = -.infinity
        case "NaN": value = .nan
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "a number or {\"__float__\": \"Infinity\"}"))
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if value.isFinite { try c.encode(value) } else {
            try c.encode(["__float__": value.isNaN ? "NaN" : (value > 0 ? "Infinity" : "-Infinity")])
        }
    }
}
