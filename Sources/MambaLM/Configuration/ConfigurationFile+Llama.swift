import Foundation

/// config.json of a Llama model (`model_type: "llama"`): both transformers spellings of the rotary
/// settings, strict about keys and about values this engine does not compute.
extension ModelConfiguration {
    /// The Llama configuration, or nil for another architecture.
    public var llama: LlamaConfiguration? {
        if case .llama(let c) = architecture { return c }
        return nil
    }

    static func llama(_ object: [String: Any], path: String, lenient: Bool) throws(LoadingError) -> ModelConfiguration {
        var o = object.filter { !($0.value is NSNull) }
        if !lenient {
            let unknown = o.keys.filter { !KnownKeys.llama.contains($0) }.sorted()
            if !unknown.isEmpty { throw .unknownKeys(path: path, keys: unknown) }
        }
        if let act = o["hidden_act"] as? String, act != "silu" {
            throw .unsupported(path: path, what: "hidden_act \"\(act)\" (Llama's MLP is SwiGLU with silu)")
        }
        if let eos = o["eos_token_id"] as? [Int] {
            // Several end tokens (Llama 3): generation stops at the first one listed.
            o["eos_token_id"] = eos.first
        }
        o["rope_parameters"] = try rotaryParameters(o, path: path)
        o["rope_theta"] = nil
        o["rope_scaling"] = nil
        let config = try decode(LlamaConfiguration.self, from: o, path: path)
        do { try config.validate() } catch { throw error.at(path) }
        return ModelConfiguration(architecture: .llama(config), compressionDefaults: nil, modelType: "llama")
    }

    /// transformers 5's `rope_parameters`, or 4.x's `rope_theta` + `rope_scaling` (whose type key is
    /// `type` or `rope_type`), as one `rope_parameters` object. Keys a scaling type does not read are refused.
    static func rotaryParameters(_ o: [String: Any], path: String) throws(LoadingError) -> [String: Any] {
        let key = o["rope_parameters"] != nil ? "rope_parameters" : "rope_scaling"
        guard var parameters = (o[key] ?? [String: Any]()) as? [String: Any] else {
            throw .invalidValue(path: path, key: key, value: "\(o[key]!)", expected: "an object")
        }
        if let type = parameters.removeValue(forKey: "type") { parameters["rope_type"] = parameters["rope_type"] ?? type }
        if parameters["rope_theta"] == nil, let theta = o["rope_theta"] { parameters["rope_theta"] = theta }
        let type = (parameters["rope_type"] as? String) ?? "default"
        let read: [String: Set<String>] = [
            "default": ["rope_type", "rope_theta"],
            "linear": ["rope_type", "rope_theta", "factor"],
            "dynamic": ["rope_type", "rope_theta", "factor"],
            "llama3": ["rope_type", "rope_theta", "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"],
        ]
        guard let known = read[type] else {
            throw .unsupported(path: path, what: "\(key).rope_type \"\(type)\" (this engine computes default, linear, dynamic and llama3)")
        }
        if let factor = parameters["partial_rotary_factor"] as? Double, factor == 1 { parameters["partial_rotary_factor"] = nil }
        if let extra = parameters.keys.sorted().first(where: { !known.contains($0) }) {
            throw .unsupported(path: path, what: "\(key).\(extra) with rope_type \"\(type)\"")
        }
        if type == "llama3", parameters["original_max_position_embeddings"] == nil {
            parameters["original_max_position_embeddings"] = o["max_position_embeddings"]
        }
        return parameters
    }
}

extension KnownKeys {
    /// `LlamaConfig` keys: those `LlamaConfiguration` reads, the rotary spellings, and ones that do not
    /// change what a forward pass computes (dropout, initialisation, the tensor-parallel split of 4.x).
    static let llama: Set<String> = Set(LlamaConfiguration.CodingKeys.allCases.map(\.rawValue)).union([
        "architectures", "model_type", "torch_dtype", "dtype", "transformers_version", "_name_or_path",
        "initializer_range", "hidden_act", "use_cache", "attention_dropout", "pretraining_tp", "rope_theta", "rope_scaling",
        "output_hidden_states", "return_dict",
    ])
}
