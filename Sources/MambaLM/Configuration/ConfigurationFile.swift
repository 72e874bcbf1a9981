import Foundation

/// What config.json says: the architecture and its configuration, plus ReMamba's hyperparameters
/// when the file carries them. This is the one place that knows every spelling of config.json
/// (Hugging Face `MambaConfig`, the original state-spaces layout, the official ReMamba fork).
public struct ModelConfiguration: Sendable, Equatable {
    public enum Architecture: Sendable, Equatable {
        case mamba(MambaConfiguration)
    }

    public var architecture: Architecture
    /// `ratio` (ρ), `compressp_ratio` (p), `stratio` (s) of the official ReMamba config, if present.
    public var compressionDefaults: CompressionDefaults?
    public var modelType: String?

    public struct CompressionDefaults: Sendable, Equatable {
        public var start: Double?
        public var length: Double?
        public var ratio: Double?
    }

    public var mamba: MambaConfiguration {
        switch architecture { case .mamba(let c): return c }
    }

    public static func load(_ url: URL, lenient: Bool = false) throws(LoadingError) -> ModelConfiguration {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else { throw .fileNotFound(path: path) }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw LoadingError.malformedJSON(path: path, reason: "the top level is not an object")
            }
            object = parsed
        } catch let error as LoadingError { throw error } catch {
            throw .malformedJSON(path: path, reason: "\(error.localizedDescription)")
        }
        return try parse(object, path: path, lenient: lenient)
    }

    static func parse(_ object: [String: Any], path: String, lenient: Bool) throws(LoadingError) -> ModelConfiguration {
        if let ssm = object["ssm_cfg"] as? [String: Any], (ssm["layer"] as? String) == "Mamba2" {
            throw .unsupported(path: path, what: "Mamba2 (ssm_cfg.layer = \"Mamba2\"): not built yet")
        }
        let modelType = object["model_type"] as? String
        if let modelType, !["mamba", "remamba"].contains(modelType) {
            throw .unsupported(path: path, what: "model_type \"\(modelType)\" (this engine reads \"mamba\" and \"remamba\")")
        }
        if !lenient {
            let unknown = object.keys.filter { !KnownKeys.all.contains($0) }.sorted()
            if !unknown.isEmpty { throw .unknownKeys(path: path, keys: unknown) }
        }
        let hfObject = object["hidden_size"] == nil && object["d_model"] != nil ? try fromOriginalLayout(object, path: path) : object
        let config: MambaConfiguration
        do {
            let json = try JSONSerialization.data(withJSONObject: hfObject)
            config = try JSONDecoder().decode(MambaConfiguration.self, from: json)
        } catch let DecodingError.keyNotFound(key, _) {
            throw .missingKey(path: path, key: key.stringValue)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            throw .invalidValue(path: path, key: context.codingPath.map(\.stringValue).joined(separator: "."),
                                value: "of the wrong type", expected: context.debugDescription)
        } catch {
            throw .malformedJSON(path: path, reason: "\(error)")
        }
        do { try config.validate() } catch {
            switch error { case let .invalidValue(key, value, expected):
                throw .invalidValue(path: path, key: key, value: value, expected: expected) }
        }
        if let act = object["hidden_act"] as? String, act != "silu" {
            throw .unsupported(path: path, what: "hidden_act \"\(act)\" (Mamba uses silu)")
        }
        if let inner = object["intermediate_size"] as? Int, inner != config.innerSize {
            throw .invalidValue(path: path, key: "intermediate_size", value: "\(inner)",
                                expected: "expand × hidden_size = \(config.innerSize)")
        }
        if (object["rms_norm"] as? Bool) == false {
            throw .unsupported(path: path, what: "rms_norm = false (LayerNorm blocks)")
        }
        return ModelConfiguration(architecture: .mamba(config), compressionDefaults: try compression(object, path: path),
                                  modelType: modelType)
    }

    /// The original state-spaces config (`d_model`, `n_layer`, `ssm_cfg`, …) in Hugging Face's spelling.
    static func fromOriginalLayout(_ o: [String: Any], path: String) throws(LoadingError) -> [String: Any] {
        guard let vocab = o["vocab_size"] as? Int else { throw .missingKey(path: path, key: "vocab_size") }
        let multiple = (o["pad_vocab_size_multiple"] as? Int) ?? 8
        let ssm = (o["ssm_cfg"] as? [String: Any]) ?? [:]
        if let unknown = ssm.keys.first(where: { !KnownKeys.ssmConfiguration.contains($0) }) {
            throw .unknownKeys(path: path, keys: ["ssm_cfg.\(unknown)"])
        }
        if let d = o["d_intermediate"] as? Int, d != 0 { throw .unsupported(path: path, what: "d_intermediate = \(d) (MLP blocks)") }
        if let a = o["attn_layer_idx"] as? [Int], !a.isEmpty { throw .unsupported(path: path, what: "attention layers (attn_layer_idx)") }
        var hf: [String: Any] = [
            "hidden_size": o["d_model"] as Any,
            "vocab_size": (vocab + multiple - 1) / multiple * multiple,
            "state_size": ssm["d_state"] ?? 16,
            "conv_kernel": ssm["d_conv"] ?? 4,
            "expand": ssm["expand"] ?? 2,
            "time_step_rank": ssm["dt_rank"] ?? "auto",
            "use_bias": ssm["bias"] ?? false,
            "use_conv_bias": ssm["conv_bias"] ?? true,
            "residual_in_fp32": o["residual_in_fp32"] ?? true,
            "tie_word_embeddings": o["tie_embeddings"] ?? true,
            "layer_norm_epsilon": o["norm_epsilon"] ?? 1e-5,
        ]
        if let layers = o["n_layer"] { hf["num_hidden_layers"] = layers }
        return hf
    }

    static func compression(_ o: [String: Any], path: String) throws(LoadingError) -> CompressionDefaults? {
        func number(_ key: String) throws(LoadingError) -> Double? {
            guard let value = o[key] else { return nil }
            guard let n = value as? NSNumber else { throw .invalidValue(path: path, key: key, value: "\(value)", expected: "a number") }
            return n.doubleValue
        }
        let defaults = CompressionDefaults(start: try number("stratio"), length: try number("compressp_ratio"), ratio: try number("ratio"))
        return defaults.start == nil && defaults.length == nil && defaults.ratio == nil ? nil : defaults
    }
}

/// Keys that config.json files of this family carry and that this engine reads or may safely ignore
/// (initialization settings, bookkeeping, the duplicate original-layout keys of `*-hf` checkpoints).
enum KnownKeys {
    static let all: Set<String> = Set(MambaConfiguration.CodingKeys.allCases.map(\.rawValue)).union([
        "architectures", "model_type", "torch_dtype", "dtype", "transformers_version", "_name_or_path",
        "initializer_range", "hidden_act", "intermediate_size", "rescale_prenorm_residual",
        "time_step_scale", "time_step_min", "time_step_max", "time_step_init_scheme", "time_step_floor",
        "use_cache", "use_mambapy", "use_associative_scan", "output_hidden_states", "return_dict",
        // original state-spaces layout (also present in the converted *-hf configs)
        "d_model", "n_layer", "d_inner", "ssm_cfg", "rms_norm", "fused_add_norm", "pad_vocab_size_multiple",
        "tie_embeddings", "norm_epsilon", "d_intermediate", "attn_layer_idx", "attn_cfg", "initializer_cfg",
        // the official ReMamba fork
        "ratio", "compressp_ratio", "stratio", "select", "train_select_rate_max", "train_select_rate_min",
    ])
    static let ssmConfiguration: Set<String> = [
        "d_state", "d_conv", "expand", "dt_rank", "bias", "conv_bias", "dt_min", "dt_max", "dt_init",
        "dt_scale", "dt_init_floor", "use_fast_path", "layer",
    ]
}
