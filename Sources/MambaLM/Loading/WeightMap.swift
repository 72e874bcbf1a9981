import Foundation
import TensorCore

/// The checkpoint's tensors under the model's own names, loaded strictly: `sanitize` renames (a pure
/// function of the name), then every expected tensor must be present with its exact shape and nothing
/// may be left over. Checking happens on the headers, before any tensor data is read. Loaded weights
/// stay as stored, viewed in the mapped files (`Weight`); `weight(_:)` gives them so, the subscript as
/// a Float32 `Tensor`.
public struct WeightMap: Sendable {
    public var weights: [String: Weight]

    public init(weights: [String: Weight]) { self.weights = weights }

    /// Float32 tensors, shared (nothing copied).
    public init(tensors: [String: Tensor]) { weights = tensors.mapValues { Weight($0) } }

    /// Every weight as a Float32 tensor (decoded where stored otherwise).
    public var tensors: [String: Tensor] {
        get { weights.mapValues { $0.tensor() } }
        set { weights = newValue.mapValues { Weight($0) } }
    }

    /// `name` as a Float32 tensor (decoded when stored as another type).
    public subscript(_ name: String) -> Tensor {
        get { weight(name).tensor() }
        set { weights[name] = Weight(newValue) }
    }

    /// `name` as stored.
    public func weight(_ name: String) -> Weight {
        guard let w = weights[name] else { preconditionFailure("WeightMap: \(name) was verified but is missing") }
        return w
    }

    /// `name` as a Float32 tensor, or nil when the checkpoint has none (optional biases).
    public func tensorIfPresent(_ name: String) -> Tensor? { weights[name]?.tensor() }

    /// The weights `names` selects stored as `type`; a matrix whose rows Q8_0 cannot split into blocks
    /// of 32 keeps its type (`kept` lists those).
    public func converted(to type: WeightType, where names: (String) -> Bool) -> (map: WeightMap, kept: [String]) {
        var result = self
        var kept: [String] = []
        for (name, w) in weights where names(name) && w.type != type {
            if type.canStore(columns: w.columns) { result.weights[name] = w.converted(to: type) } else { kept.append(name) }
        }
        return (result, kept.sorted())
    }

    /// - Parameters:
    ///   - expected: the model's tensor names and shapes.
    ///   - sanitize: maps a checkpoint name to the model's name, or nil for a tensor to drop on purpose
    ///     (a tied `lm_head.weight`, say).
    /// A Q8_0 weight `X` is stored as `X.q8_0` (I8) with `X.q8_0_scales` (F16), see docs/QUANTIZATION.md.
    public static func load(from directory: ModelDirectory, expected: [String: [Int]],
                            sanitize: (String) -> String?) throws(LoadingError) -> WeightMap {
        var sources: [String: (file: SafetensorsFile, name: String, scales: String?)] = [:]
        for (storedName, file) in directory.tensorFiles.sorted(by: { $0.key < $1.key }) {
            if storedName.hasSuffix(Q8Names.scalesSuffix) {
                let values = String(storedName.dropLast(Q8Names.scalesSuffix.count)) + Q8Names.valuesSuffix
                guard directory.tensorFiles[values] != nil else { throw .unexpectedTensor(key: storedName, path: file.path) }
                continue
            }
            var checkpointName = storedName, scales: String? = nil
            if storedName.hasSuffix(Q8Names.valuesSuffix) {
                checkpointName = String(storedName.dropLast(Q8Names.valuesSuffix.count))
                scales = checkpointName + Q8Names.scalesSuffix
                guard directory.tensorFiles[scales!] === file else {
                    throw .missingTensor(key: scales!, expectedShape: [], directory: directory.url.path)
                }
            }
            guard let name = sanitize(checkpointName) else { continue }
            guard let shape = expected[name] else { throw .unexpectedTensor(key: storedName, path: file.path) }
            let found = file.entries[storedName]!.shape
            guard found == shape else { throw .wrongShape(key: storedName, path: file.path, expected: shape, found: found) }
            sources[name] = (file, storedName, scales)
        }
        if let missing = expected.keys.sorted().first(where: { sources[$0] == nil }) {
            throw .missingTensor(key: missing, expectedShape: expected[missing]!, directory: directory.url.path)
        }
        var weights: [String: Weight] = [:]
        for (name, source) in sources { weights[name] = try source.file.weight(source.name, scales: source.scales) }
        return WeightMap(weights: weights)
    }
}

/// The tensor names of a Q8_0 weight `X` in a safetensors file: `X.q8_0` and `X.q8_0_scales`.
public enum Q8Names {
    public static let valuesSuffix = ".q8_0"
    public static let scalesSuffix = ".q8_0_scales"
}
