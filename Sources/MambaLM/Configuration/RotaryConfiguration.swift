import Foundation

/// Rotary position embeddings of a Llama model: `rope_parameters` of transformers 5
/// (`rope_type`, `rope_theta`, and the scaling's own keys). Frequencies follow transformers'
/// `modeling_rope_utils` in Float32. Legend: P head_dim, F = P/2.
public struct RotaryConfiguration: Codable, Sendable, Equatable {
    public enum Scaling: Sendable, Equatable {
        case none
        /// Positions divided by `factor` (inv_freq / factor).
        case linear(factor: Float)
        /// NTK-aware: past max_position_embeddings the base grows with the sequence length.
        case dynamic(factor: Float)
        /// Llama 3.1: long wavelengths divided by `factor`, short ones kept, a smooth ramp between.
        case llama3(factor: Float, lowFrequencyFactor: Float, highFrequencyFactor: Float, originalMaxPositions: Int)
    }

    public var theta: Float
    public var scaling: Scaling

    public init(theta: Float = 10000, scaling: Scaling = .none) {
        self.theta = theta
        self.scaling = scaling
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type = "rope_type", theta = "rope_theta", factor
        case lowFrequencyFactor = "low_freq_factor", highFrequencyFactor = "high_freq_factor"
        case originalMaxPositions = "original_max_position_embeddings"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        theta = try c.decodeIfPresent(Float.self, forKey: .theta) ?? 10000
        let type = try c.decodeIfPresent(String.self, forKey: .type) ?? "default"
        switch type {
        case "default": scaling = .none
        case "linear": scaling = .linear(factor: try c.decode(Float.self, forKey: .factor))
        case "dynamic": scaling = .dynamic(factor: try c.decode(Float.self, forKey: .factor))
        case "llama3":
            scaling = .llama3(factor: try c.decode(Float.self, forKey: .factor),
                              lowFrequencyFactor: try c.decode(Float.self, forKey: .lowFrequencyFactor),
                              highFrequencyFactor: try c.decode(Float.self, forKey: .highFrequencyFactor),
                              originalMaxPositions: try c.decode(Int.self, forKey: .originalMaxPositions))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription:
                "rope_type \"\(type)\" is not supported (this engine reads default, linear, dynamic and llama3)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(theta, forKey: .theta)
        switch scaling {
        case .none: try c.encode("default", forKey: .type)
        case .linear(let factor): try c.encode("linear", forKey: .type); try c.encode(factor, forKey: .factor)
        case .dynamic(let factor): try c.encode("dynamic", forKey: .type); try c.encode(factor, forKey: .factor)
        case let .llama3(factor, low, high, original):
            try c.encode("llama3", forKey: .type)
            try c.encode(factor, forKey: .factor)
            try c.encode(low, forKey: .lowFrequencyFactor)
            try c.encode(high, forKey: .highFrequencyFactor)
            try c.encode(original, forKey: .originalMaxPositions)
        }
    }

    func validate() throws(ConfigurationError) {
        if !(theta > 0 && theta.isFinite) {
            throw .invalidValue(key: "rope_parameters.rope_theta", value: "\(theta)", expected: "a positive number")
        }
        switch scaling {
        case .none: break
        case .linear(let factor), .dynamic(let factor):
            if !(factor > 0 && factor.isFinite) {
                throw .invalidValue(key: "rope_parameters.factor", value: "\(factor)", expected: "a positive number")
            }
        case let .llama3(factor, low, high, original):
            if !(factor > 0 && factor.isFinite) || !(low > 0) || !(high > low) || original <= 0 {
                throw .invalidValue(key: "rope_parameters", value: "factor \(factor), low_freq_factor \(low), high_freq_factor \(high), "
                                    + "original_max_position_embeddings \(original)",
                                    expected: "factor > 0, 0 < low_freq_factor < high_freq_factor, original_max_position_embeddings > 0")
            }
        }
    }

    /// inv_freq [F] for head_dim `p`, when the longest sequence seen so far is `sequenceLength`
    /// positions (read by dynamic scaling only), against `maxPositions` (max_position_embeddings).
    public func inverseFrequencies(headDimension p: Int, sequenceLength: Int, maxPositions: Int) -> [Float] {
        func plain(_ base: Float) -> [Float] {
            stride(from: 0, to: p, by: 2).map { 1 / Foundation.pow(base, Float($0) / Float(p)) }
        }
        switch scaling {
        case .none: return plain(theta)
        case .linear(let factor): return plain(theta).map { $0 / factor }
        case .dynamic(let factor):
            let length = Float(Swift.max(sequenceLength, maxPositions))
            let base = theta * Foundation.pow(factor * length / Float(maxPositions) - (factor - 1), Float(p) / Float(p - 2))
            return plain(base)
        case let .llama3(factor, low, high, original):
            let lowWavelength = Float(original) / low, highWavelength = Float(original) / high
            return plain(theta).map { frequency in
                let wavelength = 2 * Float.pi / frequency
                if wavelength < highWavelength { return frequency }
                if wavelength > lowWavelength { return frequency / factor }
                let smooth = (Float(original) / wavelength - low) / (high - low)
                return (1 - smooth) * frequency / factor + smooth * frequency
            }
        }
    }
}
