import Foundation
import TensorCore

/// The checkpoint's tensors under the model's own names, loaded strictly: `sanitize` renames (a pure
/// function of the name), then every expected tensor must be present with its exact shape and nothing
/// may be left over. Checking happens on the headers, before any tensor data is read.
public struct WeightMap: Sendable {
    public var tensors: [String: Tensor]

    public init(tensors: [String: Tensor]) { self.tensors = tensors }

    public subscript(_ name: String) -> Tensor {
        guard let t = tensors[name] else { preconditionFailure("WeightMap: \(name) was verified but is missing") }
        return t
    }

    /// - Parameters:
    ///   - expected: the model's tensor names and shapes.
    ///   - sanitize: maps a checkpoint name to the model's name, or nil for a tensor to drop on purpose
    ///     (a tied `lm_head.weight`, say).
    public static func load(from directory: ModelDirectory, expected: [String: [Int]],
                            sanitize: (String) -> String?) throws(LoadingError) -> WeightMap {
        var sources: [String: (file: SafetensorsFile, name: String)] = [:]
        for (checkpointName, file) in directory.tensorFiles.sorted(by: { $0.key < $1.key }) {
            guard let name = sanitize(checkpointName) else { continue }
            guard let shape = expected[name] else { throw .unexpectedTensor(key: checkpointName, path: file.path) }
            let found = file.entries[checkpointName]!.shape
            guard found == shape else { throw .wrongShape(key: checkpointName, path: file.path, expected: shape, found: found) }
            sources[name] = (file, checkpointName)
        }
        if let missing = expected.keys.sorted().first(where: { sources[$0] == nil }) {
            throw .missingTensor(key: missing, expectedShape: expected[missing]!, directory: directory.url.path)
        }
        var tensors: [String: Tensor] = [:]
        for (name, source) in sources { tensors[name] = try source.file.tensor(source.name) }
        return WeightMap(tensors: tensors)
    }
}
