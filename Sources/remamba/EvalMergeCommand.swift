import ArgumentParser
import Foundation
import MambaEval
import OutputFiles

/// `remamba eval merge`: the shards of a `--shard` run joined into the single run's predictions file
/// and results (refusing shards that overlap, leave a gap, are unfinished or belong to other runs).
struct EvalMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the predictions files of `eval --shard I/N` runs (in order; overlaps and gaps refused) and score them.")

    @Argument(help: "The shards' predictions files (each with its .shard.json beside it), in any order.") var shards: [String]
    @Option(name: .long, help: "Output directory: predictions-TASK.jsonl and results-TASK.json, as a single run writes them.") var output = "eval-out"

    func run() throws {
        do {
            let (lines, task) = try ShardMerge.merge(shards.map { URL(fileURLWithPath: $0) })
            let directory = URL(fileURLWithPath: output)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let predictions = directory.appendingPathComponent("predictions-\(task).jsonl")
            let records = try JSONLines.decode(PredictionRecord.self, data: lines, path: predictions.path).map(\.value)
            let results = try EvalResults(records: records, task: try EvalTaskName(task))
            let json = try results.json(settings: ["task": task, "predictions": predictions.path, "merged_from": shards])
            // Everything is computed before anything is written, and both files are written together (OutputFile).
            try OutputFile.write([(predictions.path, lines), (directory.appendingPathComponent("results-\(task).json").path, json)])
            FileHandle.standardOutput.write(json)
            print("")
            printError("merged \(shards.count) shards, \(records.count) predictions: \(predictions.path)")
        } catch { throw CommandFailure(error) }
    }
}
