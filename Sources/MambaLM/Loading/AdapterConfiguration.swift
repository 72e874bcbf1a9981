import Foundation

/// adapter_config.json of a PEFT LoRA adapter (what `PeftModel.save_pretrained` writes), mirrored for
/// what changes the merged weights. Keys PEFT writes that do not (dropout, task_type, peft_version,
/// base_model_name_or_path, layers_to_transform, …) are accepted and ignored; anything that would make
/// `W + scale·B·A` the wrong merge is refused by `validate`, naming the file and the key.
public struct AdapterConfiguration: Decodable, Sendable {
    /// `target_modules` is a list of module names (a module is targeted when its path equals one or
    /// ends with "." + one) or a single regular expression over module paths.
    public enum TargetModules: Decodable, Sendable, Equatable {
        case names([String])
        case pattern(String)

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let pattern = try? c.decode(String.self) { self = .pattern(pattern) } else { self = .names(try c.decode([String].self)) }
        }
    }

    public var peftType: String
    public var rank: Int
    public var alpha: Double
    public var targetModules: TargetModules?
    public var modulesToSave: [String]
    public var useRSLoRA: Bool
    public var useDoRA: Bool
    public var fanInFanOut: Bool
    public var loraBias: Bool
    public var bias: String
    public var rankPattern: [String: Double]
    public var alphaPattern: [String: Double]
    public var baseModelNameOrPath: String?

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type", rank = "r", alpha = "lora_alpha", targetModules = "target_modules"
        case modulesToSave = "modules_to_save", useRSLoRA = "use_rslora", useDoRA = "use_dora"
        case fanInFanOut = "fan_in_fan_out", loraBias = "lora_bias", bias
        case rankPattern = "rank_pattern", alphaPattern = "alpha_pattern"
        case baseModelNameOrPath = "base_model_name_or_path"
    }

    /// Defaults are LoraConfig's, so a file PEFT would load means the same here.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        peftType = try c.decode(String.self, forKey: .peftType)
        rank = try c.decodeIfPresent(Int.self, forKey: .rank) ?? 8
        alpha = try c.decodeIfPresent(Double.self, forKey: .alpha) ?? 8
        targetModules = try c.decodeIfPresent(TargetModules.self, forKey: .targetModules)
        modulesToSave = try c.decodeIfPresent([String].self, forKey: .modulesToSave) ?? []
        useRSLoRA = try c.decodeIfPresent(Bool.self, forKey: .useRSLoRA) ?? false
        useDoRA = try c.decodeIfPresent(Bool.self, forKey: .useDoRA) ?? false
        fanInFanOut = try c.decodeIfPresent(Bool.self, forKey: .fanInFanOut) ?? false
        loraBias = try c.decodeIfPresent(Bool.self, forKey: .loraBias) ?? false
        bias = try c.decodeIfPresent(String.self, forKey: .bias) ?? "none"
        rankPattern = try c.decodeIfPresent([String: Double].self, forKey: .rankPattern) ?? [:]
        alphaPattern = try c.decodeIfPresent([String: Double].self, forKey: .alphaPattern) ?? [:]
        baseModelNameOrPath = try c.decodeIfPresent(String.self, forKey: .baseModelNameOrPath)
    }

    /// The factor of B·A in the merge: lora_alpha / r, or lora_alpha / √r with rsLoRA (PEFT's `scaling`).
    public var scale: Float { Float(useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank)) }

    public static func load(_ url: URL) throws(LoadingError) -> AdapterConfiguration {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw .fileNotFound(path: url.path) }
        let configuration: AdapterConfiguration
        do { configuration = try JSONDecoder().decode(AdapterConfiguration.self, from: data) } catch let DecodingError.keyNotFound(key, _) {
            throw .missingKey(path: url.path, key: key.stringValue)
        } catch {
            throw .malformedJSON(path: url.path, reason: "\(error)")
        }
        try configuration.validate(path: url.path)
        guard let raw = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .malformedJSON(path: url.path, reason: "expected a JSON object")
        }
        try refuseVariants(raw, path: url.path)
        return configuration
    }

    func validate(path: String) throws(LoadingError) {
        guard peftType == "LORA" else {
            throw .unsupported(path: path, what: "\"peft_type\" is \"\(peftType)\"; only LORA adapters can be merged")
        }
        guard rank > 0 else { throw .invalidValue(path: path, key: "r", value: "\(rank)", expected: "≥ 1") }
        guard alpha.isFinite else { throw .invalidValue(path: path, key: "lora_alpha", value: "\(alpha)", expected: "a finite number") }
        if useDoRA { throw .unsupported(path: path, what: "\"use_dora\": true (DoRA rescales each column by a magnitude vector; not implemented)") }
        if fanInFanOut { throw .unsupported(path: path, what: "\"fan_in_fan_out\": true (transposed Conv1D-style weights, as in GPT-2; Mamba has none)") }
        if loraBias { throw .unsupported(path: path, what: "\"lora_bias\": true (a bias on lora_B; not implemented)") }
        if bias != "none" { throw .unsupported(path: path, what: "\"bias\": \"\(bias)\" (trained base biases; only \"none\" is implemented)") }
        if !rankPattern.isEmpty { throw .unsupported(path: path, what: "a per-module \"rank_pattern\" (one r for every module is implemented)") }
        if !alphaPattern.isEmpty { throw .unsupported(path: path, what: "a per-module \"alpha_pattern\" (one lora_alpha for every module is implemented)") }
    }

    /// Keys of LoraConfig that turn on a LoRA variant whose merge is not `W + scale·B·A` (or that
    /// cannot be merged at all), refused when set to anything but their off value.
    static func refuseVariants(_ raw: [String: Any], path: String) throws(LoadingError) {
        let offWhenNullOrEmpty = ["layer_replication", "trainable_token_indices", "target_parameters", "alora_invocation_tokens",
                                  "use_bdlora", "arrow_config", "kasa_config", "velora_config", "monteclora_config", "lora_ga_config"]
        for key in offWhenNullOrEmpty {
            guard let value = raw[key], !(value is NSNull) else { continue }
            if let list = value as? [Any], list.isEmpty { continue }
            if let object = value as? [String: Any], object.isEmpty { continue }
            if let flag = value as? Bool, !flag { continue }
            throw .unsupported(path: path, what: "\"\(key)\" is set (a LoRA variant whose merge is not W + scale·B·A)")
        }
        if let quantized = raw["use_qalora"] as? Bool, quantized {
            throw .unsupported(path: path, what: "\"use_qalora\": true (quantization-aware LoRA)")
        }
        // PiSSA, OLoRA, CorDA, EVA, LoftQ… change the base weights when the adapter is created; an adapter
        // saved that way (not converted back) is only valid on the altered base.
        if let initialization = raw["init_lora_weights"] as? String, !["gaussian", "orthogonal"].contains(initialization) {
            throw .unsupported(path: path, what: "\"init_lora_weights\": \"\(initialization)\" (this initialisation alters the base weights)")
        }
    }
}
