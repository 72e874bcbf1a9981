import Foundation
import MambaLM
import TensorCore

/// A resumable checkpoint in one safetensors file, written atomically (temporary file, then rename):
/// `parameter.<name>`, `adam.m.<name>`, `adam.v.<name>` in Float32 (bit-exact), and the rest of the state
/// (step, data position, generator, history, settings) as JSON in the header metadata `trainer_state`.
public enum TrainingCheckpoint {
    struct Metadata: Codable {
        var step: Int
        var position: DataPosition
        var generator: SeededGenerator
        var history: [StepRecord]
        var settings: TrainingSettings
    }

    public static func save(_ state: TrainingState, settings: TrainingSettings, to url: URL) throws {
        var tensors: [(String, SafetensorsWriter.Value)] = []
        for name in state.parameters.keys.sorted() { tensors.append(("parameter.\(name)", .float32(state.parameters[name]!))) }
        for name in state.optimizer.firstMoment.keys.sorted() {
            tensors.append(("adam.m.\(name)", .float32(state.optimizer.firstMoment[name]!)))
            tensors.append(("adam.v.\(name)", .float32(state.optimizer.secondMoment[name]!)))
        }
        let metadata = Metadata(step: state.step, position: state.position, generator: state.generator,
                                history: state.history, settings: settings)
        let json = String(decoding: try JSONEncoder().encode(metadata), as: UTF8.self)
        try SafetensorsWriter.write(tensors, metadata: ["trainer_state": json, "format": "remamba-train-checkpoint"], to: url)
    }

    /// The state and the settings it was saved with.
    public static func load(_ url: URL) throws -> (state: TrainingState, settings: TrainingSettings) {
        let file = try SafetensorsFile(path: url.path)
        guard let json = file.metadata["trainer_state"],
              let metadata = try? JSONDecoder().decode(Metadata.self, from: Data(json.utf8)) else {
            throw LoadingError.corruptSafetensors(path: url.path, reason: "not a training checkpoint (no readable trainer_state metadata)")
        }
        var state = TrainingState(parameters: [:], seed: 0)
        for name in file.names {
            if name.hasPrefix("parameter.") {
                state.parameters[String(name.dropFirst("parameter.".count))] = try file.tensor(name)
            } else if name.hasPrefix("adam.m.") {
                state.optimizer.firstMoment[String(name.dropFirst("adam.m.".count))] = try file.tensor(name)
            } else if name.hasPrefix("adam.v.") {
                state.optimizer.secondMoment[String(name.dropFirst("adam.v.".count))] = try file.tensor(name)
            }
        }
        state.optimizer.step = metadata.step
        state.position = metadata.position
        state.generator = metadata.generator
        state.history = metadata.history
        return (state, metadata.settings)
    }
}
