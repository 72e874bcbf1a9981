import Foundation
import TensorCore

/// The recurrent state of one Mamba layer (E d_inner, k conv_kernel, N d_state).
public struct LayerState: Sendable, Equatable {
    /// [E, k]: the last k inputs of the causal conv, newest in column k−1 (HF's `conv_state`).
    public var conv: Tensor
    /// [E, N]: the SSM hidden state h (HF's `ssm_state`).
    public var ssm: Tensor
}

/// Everything a model needs to continue a sequence: constant size, whatever the length so far.
/// A value: copying it forks the sequence.
public struct ModelState: Sendable, Equatable {
    public var layers: [LayerState]
    /// Number of positions consumed so far.
    public var position: Int

    public init(layers: [LayerState], position: Int = 0) {
        self.layers = layers
        self.position = position
    }

    /// Writes the state as safetensors (`conv.{i}`, `ssm.{i}`; the position and `metadata` in the metadata).
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        var tensors: [(String, SafetensorsWriter.Value)] = []
        for (i, layer) in layers.enumerated() {
            tensors.append(("conv.\(i)", .float32(layer.conv)))
            tensors.append(("ssm.\(i)", .float32(layer.ssm)))
        }
        try SafetensorsWriter.write(tensors, metadata: metadata.merging(["position": "\(position)", "format": "remamba-state-1"]) { _, own in own },
                                   to: url)
    }

    /// Reads a state written by `save`, checking it against the shapes `like` (a fresh state of the model).
    public static func load(from url: URL, like template: ModelState) throws(LoadingError) -> ModelState {
        let file = try SafetensorsFile(path: url.path)
        guard let text = file.metadata["position"], let position = Int(text) else {
            throw .missingKey(path: url.path, key: "__metadata__.position")
        }
        var state = template
        state.position = position
        for i in state.layers.indices {
            for (name, keyPath) in [("conv.\(i)", \LayerState.conv), ("ssm.\(i)", \LayerState.ssm)] {
                let expected = template.layers[i][keyPath: keyPath].shape
                guard let entry = file.entries[name] else { throw .missingTensor(key: name, expectedShape: expected, directory: url.path) }
                guard entry.shape == expected else { throw .wrongShape(key: name, path: url.path, expected: expected, found: entry.shape) }
                state.layers[i][keyPath: keyPath] = try file.tensor(name)
            }
        }
        if file.entries.count != 2 * state.layers.count {
            throw .corruptSafetensors(path: url.path, reason: "holds \(file.entries.count) tensors; a state of this model has \(2 * state.layers.count)")
        }
        return state
    }
}
