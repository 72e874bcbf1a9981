import Foundation
import OutputFiles

/// A run in an output directory: steps the trainer to the end, writing a checkpoint every `saveEvery` steps
/// (and at the end) with the loss chart and the model as trained so far (`export`: a model directory or an
/// adapter, usable while the run goes on), logging each step. `resumedState` continues from
/// `checkpoint.safetensors` exactly where it stopped.
public struct TrainingRun {
    public var trainer: Trainer
    public let directory: URL
    public var saveEvery: Int?
    public var report: TrainingReport

    public static func checkpointURL(in directory: URL) -> URL { directory.appendingPathComponent("checkpoint.safetensors") }

    public init(trainer: Trainer, directory: URL, saveEvery: Int?) {
        (self.trainer, self.directory, self.saveEvery) = (trainer, directory, saveEvery)
        report = TrainingReport(directory: directory)
    }

    /// The state saved in `directory`'s checkpoint, refused when it was made with other settings or holds
    /// other tensors than `initial` (another model, LoRA rank or objective).
    public static func resumedState(in directory: URL, settings: TrainingSettings, like initial: NamedTensors) throws -> TrainingState {
        let url = checkpointURL(in: directory)
        guard FileManager.default.fileExists(atPath: url.path) else { throw TrainingRunError.noCheckpoint(path: url.path) }
        let (state, saved) = try TrainingCheckpoint.load(url)
        guard saved == settings else { throw TrainingRunError.settingsChanged(path: url.path, saved: saved, given: settings) }
        if let name = initial.keys.sorted().first(where: { state.parameters[$0]?.shape != initial[$0]!.shape })
            ?? state.parameters.keys.sorted().first(where: { initial[$0] == nil }) {
            throw TrainingRunError.otherTensors(path: url.path, name: name)
        }
        return state
    }

    /// Trains to `trainer.settings.totalSteps` (or `stopAfter` steps in all, for tests).
    public mutating func run(stopAfter: Int? = nil, export: (NamedTensors) throws -> Void) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try rewriteLog()
        let last = min(stopAfter ?? trainer.settings.totalSteps, trainer.settings.totalSteps)
        while trainer.state.step < last {
            let record = trainer.step()
            try report.record(record, totalSteps: trainer.settings.totalSteps, force: record.step == last)
            if let saveEvery, record.step % saveEvery == 0, record.step < last { try save(export) }
        }
        try save(export)
    }

    func save(_ export: (NamedTensors) throws -> Void) throws {
        try TrainingCheckpoint.save(trainer.state, settings: trainer.settings, to: Self.checkpointURL(in: directory))
        try report.writeChart(trainer.state.history)
        try export(trainer.state.parameters)
    }

    /// The log holds exactly the checkpoint's history (steps logged after the last checkpoint are redone).
    func rewriteLog() throws {
        var log = Data()
        for record in trainer.state.history { log.append(try TrainingReport.line(record)) }
        try OutputFile.write(log, to: report.logURL.path)
    }
}

public enum TrainingRunError: Error, CustomStringConvertible {
    case noCheckpoint(path: String)
    case settingsChanged(path: String, saved: TrainingSettings, given: TrainingSettings)
    case otherTensors(path: String, name: String)

    public var description: String {
        switch self {
        case .noCheckpoint(let path): return "--resume: no checkpoint at \(path)"
        case .settingsChanged(let path, let saved, let given):
            return "--resume: \(path) was made with other settings (\(saved.differences(to: given).joined(separator: ", "))); resume with the same options"
        case .otherTensors(let path, let name):
            return "--resume: \(path) does not hold this run's trainable tensors (\(name) differs: another model, LoRA rank or objective?)"
        }
    }
}
