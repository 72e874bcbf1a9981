import Foundation

/// A PEFT LoRA adapter directory, as `PeftModel.save_pretrained` writes it: adapter_config.json +
/// adapter_model.safetensors. The tensor names (checked against peft 0.21; the scheme dates from 0.7):
///
///     base_model.model.<module>.lora_A.weight        [r, in]   of an nn.Linear <module> (weight [out, in])
///     base_model.model.<module>.lora_B.weight        [out, r]
///     base_model.model.<module>.lora_embedding_A     [r, V]    of an nn.Embedding <module> (weight [V, D])
///     base_model.model.<module>.lora_embedding_B     [D, r]
///     base_model.model.<module>.base_layer.weight    a whole copy of a targeted embedding or lm_head (PEFT saves
///                                                    these when target_modules names one; loading puts it back)
///     base_model.model.<module>.<parameter>          a whole module of modules_to_save (dt_proj, ReMamba's
///                                                    Q_proj.0.weight, ret_bias.param, …)
///
/// `WeightMap.load(from:adapter:expected:sanitize:)` merges it into a base model's weights.
public struct PEFTAdapter: Sendable {
    public static let configurationName = "adapter_config.json"
    public static let weightsName = "adapter_model.safetensors"
    /// The prefix of every tensor name: `PeftModel.base_model` (the LoRA tuner) → `.model` (the transformers model).
    static let namePrefix = "base_model.model."

    public let url: URL
    public let configuration: AdapterConfiguration
    public let file: SafetensorsFile

    public init(_ url: URL) throws(LoadingError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw .fileNotFound(path: url.path) }
        guard isDirectory.boolValue else { throw .notADirectory(path: url.path) }
        self.url = url
        configuration = try AdapterConfiguration.load(url.appendingPathComponent(Self.configurationName))
        let weights = url.appendingPathComponent(Self.weightsName)
        guard FileManager.default.fileExists(atPath: weights.path) else {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("adapter_model.bin").path) {
                throw .unsupported(path: url.path, what: "adapter_model.bin (a pickle); save the adapter with safe_serialization=True")
            }
            throw .fileNotFound(path: weights.path)
        }
        file = try SafetensorsFile(path: weights.path)
    }

    /// What one adapter tensor is, read from its name (without `namePrefix`).
    enum Role: Equatable {
        case linearA(module: String), linearB(module: String)
        case embeddingA(module: String), embeddingB(module: String)
        /// A whole tensor of the base model, under its checkpoint name.
        case whole(name: String)
    }

    /// nil for a LoRA tensor of a kind not implemented (lora_magnitude_vector of DoRA, a lora_B bias, …).
    static func role(of key: String) -> Role? {
        let suffixes: [(String, (String) -> Role)] = [
            (".lora_A.weight", { .linearA(module: $0) }), (".lora_B.weight", { .linearB(module: $0) }),
            (".lora_embedding_A", { .embeddingA(module: $0) }), (".lora_embedding_B", { .embeddingB(module: $0) }),
        ]
        for (suffix, make) in suffixes where key.hasSuffix(suffix) { return make(String(key.dropLast(suffix.count))) }
        if key.contains(".lora_") { return nil }
        return .whole(name: key.replacingOccurrences(of: ".base_layer.", with: "."))
    }

    /// Every tensor of the adapter with its role; a name without the prefix is not one PEFT writes.
    func roles() throws(LoadingError) -> [(key: String, role: Role)] {
        var result: [(key: String, role: Role)] = []
        for key in file.names {
            guard key.hasPrefix(Self.namePrefix) else {
                throw .unsupported(path: file.path, what: "tensor \"\(key)\" is not named \(Self.namePrefix)… as PEFT saves adapters")
            }
            guard let role = Self.role(of: String(key.dropFirst(Self.namePrefix.count))) else {
                throw .unsupported(path: file.path, what: "tensor \"\(key)\" is a LoRA tensor of a kind not implemented "
                                   + "(lora_A/lora_B weights and lora_embedding_A/B are)")
            }
            result.append((key, role))
        }
        return result
    }

    /// Whether the adapter carries base tensor `name` (a checkpoint name) whole, e.g. ReMamba's
    /// `backbone.Q_proj.0.weight` from modules_to_save.
    public func providesWhole(_ name: String) -> Bool { file.entries[Self.namePrefix + name] != nil }

    /// One line for `remamba info`.
    public var summary: String {
        let c = configuration
        let targets: String
        switch c.targetModules {
        case .names(let names)?: targets = names.sorted().joined(separator: ", ")
        case .pattern(let pattern)?: targets = "/\(pattern)/"
        case nil: targets = "none"
        }
        let saved = c.modulesToSave.isEmpty ? "none" : c.modulesToSave.joined(separator: ", ")
        return "adapter: \(url.path): LoRA r=\(c.rank), lora_alpha=\(c.alpha)\(c.useRSLoRA ? " (rsLoRA)" : ""), scale \(c.scale); "
            + "targets \(targets); modules_to_save \(saved); \(file.entries.count) tensors"
    }
}
