import Foundation
import TensorCore

/// The recurrent state of one Mamba layer (E d_inner, k conv_kernel, N d_state).
public struct LayerState: Sendable, Equatable {
    /// [E, k]: the last k inputs of the causal conv, newest in column k−1 (HF's `conv_state`).
    public var conv: Tensor
    /// [E, N]: the SSM hidden state h (HF's `ssm_state`).
    public var ssm: Tensor
}

extension LayerState {
    /// Runs `body` on a batch of one holding `state` (moved in and back out, so its buffers are not copied).
    static func withBatch<R>(of state: inout LayerState, _ body: (inout [LayerState]) -> R) -> R {
        var batch = [LayerState(conv: Tensor(zeros: [0]), ssm: Tensor(zeros: [0]))]
        swap(&batch[0], &state)
        defer { swap(&batch[0], &state) }
        return body(&batch)
    }

    /// Runs `body` on layer `layer`'s states of every sequence in `states` (moved out and back in).
    static func withLayer<R>(_ layer: Int, of states: inout [ModelState], _ body: (inout [LayerState]) -> R) -> R {
        var batch = states.map { _ in LayerState(conv: Tensor(zeros: [0]), ssm: Tensor(zeros: [0])) }
        for b in states.indices { swap(&batch[b], &states[b].layers[layer]) }
        defer { for b in states.indices { swap(&batch[b], &states[b].layers[layer]) } }
        return body(&batch)
    }
}

/// Everything a model needs to continue a sequence. A value: copying it forks the sequence.
/// Mamba's layers carry a recurrent state of constant size (`layers`); a transformer's (Llama) carry
/// their keys and values (`attention`), which grow with the context. A model uses one of the two.
public struct ModelState: Sendable, Equatable {
    public var layers: [LayerState]
    /// One cache per attention layer (empty for Mamba).
    public var attention: [KeyValueCache]
    /// Number of positions consumed so far.
    public var position: Int

    public init(layers: [LayerState] = [], attention: [KeyValueCache] = [], position: Int = 0) {
        self.layers = layers
        self.attention = attention
        self.position = position
    }

    /// Writes the state as safetensors (`conv.{i}`, `ssm.{i}`; the position and `metadata` in the metadata).
    /// Recurrent states only: a key/value cache is not saved.
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        guard attention.isEmpty else { throw LoadingError.unsupported(path: url.path, what: "saving a key/value cache (attention model)") }
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
