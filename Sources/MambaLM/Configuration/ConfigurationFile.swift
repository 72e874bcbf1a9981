import Foundation
import TensorCore

/// What config.json says: the architecture and its configuration, plus ReMamba's hyperparameters
/// when the file carries them. This is the one place that knows every spelling of config.json
/// (Hugging Face `MambaConfig` and `Mamba2Config`, the original state-spaces layout of both, the official
/// ReMamba fork).
public struct ModelConfiguration: Sendable, Equatable {
    public enum Architecture: Sendable, Equatable {
        case mamba(MambaConfiguration)
        case mamba2(Mamba2Configuration)
        case llama(LlamaConfiguration)
    }

    public var architecture: Architecture
    /// `ratio` (ρ), `compressp_ratio` (p), `stratio` (s) of the official ReMamba config, if present.
    public var compressionDefaults: CompressionDefaults?
    public var modelType: String?
    /// What was read but ignored, for the user (the CLI prints each on stderr): e.g. a special token id
    /// outside the vocabulary (`SpecialTokenIDs`).
    public var warnings: [String] = []

    public struct CompressionDefaults: Sendable, Equatable {
        public var start: Double?
        public var length: Double?
        public var ratio: Double?
    }

    /// The Mamba (v1) configuration, or nil for another architecture.
    public var mamba: MambaConfiguration? {
        if case .mamba(let c) = architecture { return c }
        return nil
    }

    /// The Mamba-2 configuration, or nil for another architecture.
    public var mamba2: Mamba2Configuration? {
        if case .mamba2(let c) = architecture { return c }
        return nil
    }

    public static func load(_ url: URL, lenient: Bool = false) throws(LoadingError) -> ModelConfiguration {
        let path = url.path
        guard let raw = FileManager.default.contents(atPath: path) else { throw .fileNotFound(path: path) }
        let data = spellingNonFiniteNumbers(raw)
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
        var configuration = try parseFamily(object, path: path, lenient: lenient)
        try configuration.boundSpecialTokenIDs(path: path)
        return configuration
    }

    static func parseFamily(_ object: [String: Any], path: String, lenient: Bool) throws(LoadingError) -> ModelConfiguration {
        let modelType = object["model_type"] as? String
        if let modelType, !["mamba", "remamba", "mamba2", "llama"].contains(modelType) {
            throw .unsupported(path: path, what: "model_type \"\(modelType)\" (this engine reads \"mamba\", \"mamba2\", \"remamba\" and \"llama\")")
        }
        if modelType == "llama" { return try llama(object, path: path, lenient: lenient) }
        let isOriginalLayout = object["hidden_size"] == nil && object["d_model"] != nil
        let ssmLayer = (object["ssm_cfg"] as? [String: Any])?["layer"] as? String
        let isMamba2 = modelType == "mamba2" || (isOriginalLayout && ssmLayer == "Mamba2")
        if !lenient {
            let known = isMamba2 ? KnownKeys.mamba2 : KnownKeys.all
            let unknown = object.keys.filter { !known.contains($0) }.sorted()
            if !unknown.isEmpty { throw .unknownKeys(path: path, keys: unknown) }
        }
        if let act = object["hidden_act"] as? String, act != "silu" {
            throw .unsupported(path: path, what: "hidden_act \"\(act)\" (Mamba uses silu)")
        }
        if (object["rms_norm"] as? Bool) == false {
            throw .unsupported(path: path, what: "rms_norm = false (LayerNorm blocks)")
        }
        let compressionDefaults = try compression(object, path: path)
        try checkQuantization(object, path: path)
        if isMamba2 {
            var hfObject = isOriginalLayout ? try mamba2FromOriginalLayout(object, path: path) : object
            if !isOriginalLayout {
                // transformers' Mamba2 reads `norm_before_gate` nowhere: MambaRMSNormGated always gates
                // first (and 4.x configs default the key to true). Follow what the checkpoint computes.
                hfObject["norm_before_gate"] = nil
            }
            let config = try decode(Mamba2Configuration.self, from: hfObject, path: path)
            do { try config.validate() } catch { throw error.at(path) }
            return ModelConfiguration(architecture: .mamba2(config), compressionDefaults: compressionDefaults, modelType: modelType)
        }
        let hfObject = isOriginalLayout ? try fromOriginalLayout(object, path: path) : object
        let config = try decode(MambaConfiguration.self, from: hfObject, path: path)
        do { try config.validate() } catch { throw error.at(path) }
        if let inner = object["intermediate_size"] as? Int, inner != config.innerSize {
            throw .invalidValue(path: path, key: "intermediate_size", value: "\(inner)",
                                expected: "expand × hidden_size = \(config.innerSize)")
        }
        return ModelConfiguration(architecture: .mamba(config), compressionDefaults: compressionDefaults, modelType: modelType)
    }

    static func decode<T: Decodable>(_ type: T.Type, from object: [String: Any], path: String) throws(LoadingError) -> T {
        do {
            let json = try JSONSerialization.data(withJSONObject: object)
            return try JSONDecoder().decode(T.self, from: json)
        } catch let DecodingError.keyNotFound(key, _) {
            throw .missingKey(path: path, key: key.stringValue)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            throw .invalidValue(path: path, key: context.codingPath.map(\.stringValue).joined(separator: "."),
                                value: "of the wrong type", expected: context.debugDescription)
        } catch {
            throw .malformedJSON(path: path, reason: "\(error)")
        }
    }

    /// The original state-spaces config (`d_model`, `n_layer`, `ssm_cfg`, …) in Hugging Face's spelling.
    static func fromOriginalLayout(_ o: [String: Any], path: String) throws(LoadingError) -> [String: Any] {
        let vocabulary = try paddedVocabulary(o, path: path)
        let ssm = (o["ssm_cfg"] as? [String: Any]) ?? [:]
        if let unknown = ssm.keys.first(where: { !KnownKeys.ssmConfiguration.contains($0) }) {
            throw .unknownKeys(path: path, keys: ["ssm_cfg.\(unknown)"])
        }
        if let d = o["d_intermediate"] as? Int, d != 0 { throw .unsupported(path: path, what: "d_intermediate = \(d) (MLP blocks)") }
        if let a = o["attn_layer_idx"] as? [Int], !a.isEmpty { throw .unsupported(path: path, what: "attention layers (attn_layer_idx)") }
        var hf: [String: Any] = [
            "hidden_size": o["d_model"] as Any,
            "vocab_size": vocabulary,
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

    /// The original state-spaces Mamba2 config (`ssm_cfg.layer = "Mamba2"`) in Hugging Face's spelling.
    /// mamba_ssm's `Mamba2` defaults: d_state 128, d_conv 4, expand 2, headdim 64, ngroups 1, chunk_size 256,
    /// norm_before_gate false, dt_limit (0, ∞); its gated norm uses ε = 1e-5 whatever `norm_epsilon` says.
    static func mamba2FromOriginalLayout(_ o: [String: Any], path: String) throws(LoadingError) -> [String: Any] {
        let vocabulary = try paddedVocabulary(o, path: path)
        let d = try size(o, "d_model", default: nil, path: path)
        let ssm = (o["ssm_cfg"] as? [String: Any]) ?? [:]
        if let unknown = ssm.keys.sorted().first(where: { !KnownKeys.ssmConfigurationMamba2.contains($0) }) {
            throw .unknownKeys(path: path, keys: ["ssm_cfg.\(unknown)"])
        }
        if let di = o["d_intermediate"] as? Int, di != 0 { throw .unsupported(path: path, what: "d_intermediate = \(di) (MLP blocks)") }
        if let a = o["attn_layer_idx"] as? [Int], !a.isEmpty { throw .unsupported(path: path, what: "attention layers (attn_layer_idx)") }
        if (ssm["rmsnorm"] as? Bool) == false { throw .unsupported(path: path, what: "ssm_cfg.rmsnorm = false (no gated norm)") }
        if let act = ssm["activation"] as? String, !["silu", "swish"].contains(act) {
            throw .unsupported(path: path, what: "ssm_cfg.activation \"\(act)\" (Mamba2 uses silu)")
        }
        if (ssm["D_has_hdim"] as? Bool) == true { throw .unsupported(path: path, what: "ssm_cfg.D_has_hdim = true") }
        let expand = try size(ssm, "expand", default: 2, path: path, in: "ssm_cfg.")
        let headDim = try size(ssm, "headdim", default: 64, path: path, in: "ssm_cfg.")
        if let dssm = ssm["d_ssm"] as? Int, dssm != expand * d {
            throw .unsupported(path: path, what: "ssm_cfg.d_ssm = \(dssm) ≠ expand × d_model (a gated MLP beside the SSM)")
        }
        let epsilon = (o["norm_epsilon"] as? Double) ?? 1e-5
        if epsilon != 1e-5 {
            throw .unsupported(path: path, what: "norm_epsilon = \(epsilon) with Mamba2 (its gated norm hard-codes 1e-5)")
        }
        var hf: [String: Any] = [
            "hidden_size": d,
            "vocab_size": vocabulary,
            "state_size": ssm["d_state"] ?? 128,
            "conv_kernel": ssm["d_conv"] ?? 4,
            "expand": expand,
            "head_dim": headDim,
            "num_heads": expand * d / headDim,
            "n_groups": ssm["ngroups"] ?? 1,
            "chunk_size": ssm["chunk_size"] ?? 256,
            "use_bias": ssm["bias"] ?? false,
            "use_conv_bias": ssm["conv_bias"] ?? true,
            "norm_before_gate": ssm["norm_before_gate"] ?? false,
            "residual_in_fp32": o["residual_in_fp32"] ?? true,
            "tie_word_embeddings": o["tie_embeddings"] ?? true,
            "layer_norm_epsilon": epsilon,
            // GPT-NeoX tokenizer of the released checkpoints: <|endoftext|> = 0 (as for Mamba-1).
            "bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0,
        ]
        if let limit = ssm["dt_limit"] { hf["time_step_limit"] = limit }
        if let layers = o["n_layer"] { hf["num_hidden_layers"] = layers }
        return hf
    }

    /// `vocab_size` rounded up to a multiple of `pad_vocab_size_multiple` (default 8), as mamba_ssm pads the
    /// embedding; both checked against `ConfigurationLimits` first (a multiple of 0 would divide by zero).
    static func paddedVocabulary(_ o: [String: Any], path: String) throws(LoadingError) -> Int {
        let vocabulary = try size(o, "vocab_size", default: nil, path: path)
        let multiple = try size(o, "pad_vocab_size_multiple", default: 8, path: path)
        return (vocabulary + multiple - 1) / multiple * multiple
    }

    /// An integer of the original layout (`prefix` names its parent object in errors), in
    /// 1 … `ConfigurationLimits.maxSize`, before any arithmetic uses it; `default` nil: required.
    static func size(_ o: [String: Any], _ key: String, default value: Int?, path: String, in prefix: String = "") throws(LoadingError) -> Int {
        guard let raw = o[key] else {
            guard let value else { throw .missingKey(path: path, key: prefix + key) }
            return value
        }
        guard let integer = raw as? Int else {
            throw .invalidValue(path: path, key: prefix + key, value: "\(raw)", expected: "an integer")
        }
        do { return try ConfigurationLimits.check(integer, key: prefix + key) } catch { throw error.at(path) }
    }

    /// transformers 4.x writes a non-finite float (`time_step_limit = (0.0, inf)` of Mamba2) as the bare
    /// token `Infinity`, which is not JSON; transformers 5 writes `{"__float__": "Infinity"}`. The bare
    /// tokens outside strings are rewritten to the second spelling, which `ConfigurationFloat` reads.
    static func spellingNonFiniteNumbers(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        guard bytes.contains(UInt8(ascii: "I")) || bytes.contains(UInt8(ascii: "N")) else { return data }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 64)
        var inString = false, escaped = false, i = 0
        while i < bytes.count {
            let b = bytes[i]
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                out.append(b); i += 1; continue
            }
            if b == UInt8(ascii: "\"") { inString = true; out.append(b); i += 1; continue }
            var matched = false
            for token in ["-Infinity", "Infinity", "NaN"] where bytes[i...].starts(with: Array(token.utf8)) {
                out.append(contentsOf: Array("{\"__float__\": \"\(token)\"}".utf8))
                i += token.utf8.count
                matched = true
                break
            }
            if !matched { out.append(b); i += 1 }
        }
        return Data(out)
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
extension ModelConfiguration {
    /// The `quantization_config` that `remamba quantize --format q8` writes (docs/QUANTIZATION.md): the
    /// weights themselves say how they are stored, so this key only marks the directory for other tools
    /// (transformers refuses an unknown `quant_method` by name). Anything else is refused here.
    static func checkQuantization(_ object: [String: Any], path: String) throws(LoadingError) {
        guard let value = object["quantization_config"] else { return }
        guard let q = value as? [String: Any], q["quant_method"] as? String == Q8Configuration.method,
              q["block_size"] as? Int == WeightType.blockSize, q.count == 2 else {
            throw .unsupported(path: path, what: "quantization_config \(value) (this engine reads {\"quant_method\": \"\(Q8Configuration.method)\", \"block_size\": 32})")
        }
    }
}

/// How config.json marks a directory written by `remamba quantize --format q8`.
public enum Q8Configuration {
    public static let method = "remamba_q8_0"
    public static var json: [String: Any] { ["quant_method": method, "block_size": WeightType.blockSize] }
}

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
        "quantization_config",
    ])
    /// Hugging Face `Mamba2Config` keys (and its original-layout spelling) that are not `CodingKeys`.
    static let mamba2: Set<String> = Set(Mamba2Configuration.CodingKeys.allCases.map(\.rawValue)).union([
        "architectures", "model_type", "torch_dtype", "dtype", "transformers_version", "_name_or_path",
        "initializer_range", "hidden_act", "rescale_prenorm_residual", "rms_norm", "time_step_rank",
        "time_step_min", "time_step_max", "time_step_floor", "use_cache", "output_hidden_states", "return_dict",
        "d_model", "n_layer", "ssm_cfg", "fused_add_norm", "pad_vocab_size_multiple", "tie_embeddings", "norm_epsilon",
        "d_intermediate", "attn_layer_idx", "attn_cfg", "initializer_cfg",
        "ratio", "compressp_ratio", "stratio", "select", "train_select_rate_max", "train_select_rate_min",
        "quantization_config",
    ])
    static let ssmConfigurationMamba2: Set<String> = [
        "layer", "d_state", "d_conv", "expand", "headdim", "ngroups", "chunk_size", "bias", "conv_bias",
        "norm_before_gate", "rmsnorm", "dt_limit", "d_ssm", "D_has_hdim", "A_init_range", "dt_min", "dt_max",
        "dt_init_floor", "conv_init", "use_mem_eff_path", "learnable_init_states", "activation",
    ]
    static let ssmConfiguration: Set<String> = [
        "d_state", "d_conv", "expand", "dt_rank", "bias", "conv_bias", "dt_min", "dt_max", "dt_init",
        "dt_scale", "dt_init_floor", "use_fast_path", "layer",
    ]
}

extension ConfigurationError {
    /// The same error, now that the file is known.
    func at(_ path: String) -> LoadingError {
        switch self { case let .invalidValue(key, value, expected): .invalidValue(path: path, key: key, value: value, expected: expected) }
    }
}
