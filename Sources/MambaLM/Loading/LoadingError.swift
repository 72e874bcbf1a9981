/// Everything that can be wrong with a model directory, each message naming the file and the key.
public enum LoadingError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case notADirectory(path: String)
    case pytorchCheckpointOnly(directory: String)
    case noWeights(directory: String)
    case malformedJSON(path: String, reason: String)
    case missingKey(path: String, key: String)
    case invalidValue(path: String, key: String, value: String, expected: String)
    case unknownKeys(path: String, keys: [String])
    case unsupported(path: String, what: String)
    case corruptSafetensors(path: String, reason: String)
    case unknownDType(path: String, tensor: String, dtype: String)
    case missingTensor(key: String, expectedShape: [Int], directory: String)
    case unexpectedTensor(key: String, path: String)
    case wrongShape(key: String, path: String, expected: [Int], found: [Int])
    case exceedsMemory(path: String, needed: String, matrices: String, available: String)
    case layerCountMismatch(directory: String, configured: Int, found: Int)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "\(path): no such file or directory"
        case .notADirectory(let path): return "\(path): not a model directory"
        case .pytorchCheckpointOnly(let dir):
            return "\(dir): holds only pytorch_model.bin (a pickle), which this engine does not read. Convert it once with Python: "
                + "`from transformers import AutoModelForCausalLM; AutoModelForCausalLM.from_pretrained('\(dir)').save_pretrained('\(dir)', safe_serialization=True)`"
        case .noWeights(let dir): return "\(dir): no model.safetensors, model.safetensors.index.json or *.safetensors file"
        case .malformedJSON(let path, let reason): return "\(path): malformed JSON: \(reason)"
        case .missingKey(let path, let key): return "\(path): missing required key \"\(key)\""
        case .invalidValue(let path, let key, let value, let expected):
            return "\(path): \"\(key)\" is \(value), expected \(expected)"
        case .unknownKeys(let path, let keys):
            return "\(path): unknown configuration key(s) \(keys.map { "\"\($0)\"" }.joined(separator: ", ")) "
                + "(a misspelled key would be silently ignored otherwise; pass --lenient-config to ignore them)"
        case .unsupported(let path, let what): return "\(path): unsupported: \(what)"
        case .corruptSafetensors(let path, let reason): return "\(path): not a valid safetensors file: \(reason)"
        case .unknownDType(let path, let tensor, let dtype):
            return "\(path): tensor \"\(tensor)\" has dtype \(dtype); supported: F32, F16, BF16 (weights), I64, I32 (ids)"
        case .missingTensor(let key, let shape, let dir): return "\(dir): missing tensor \"\(key)\" (expected shape \(shape))"
        case .unexpectedTensor(let key, let path): return "\(path): unexpected tensor \"\(key)\" (not part of this model)"
        case .wrongShape(let key, let path, let expected, let found):
            return "\(path): tensor \"\(key)\" has shape \(found), expected \(expected)"
        case .exceedsMemory(let path, let needed, let matrices, let available):
            return "\(path): the weights of this configuration need \(needed) (weight matrices as \(matrices), other tensors as F32), "
                + "more than this machine's \(available) of memory"
        case .layerCountMismatch(let directory, let configured, let found):
            return "\(directory): config.json has \(configured) layers (num_hidden_layers / n_layer), the weights have \(found)"
        }
    }
}

/// A configuration value out of range, before it is known which file it came from.
public enum ConfigurationError: Error, Equatable {
    case invalidValue(key: String, value: String, expected: String)
}
