import Foundation
import MambaLM
import Tokenization
import XCTest
@testable import MambaEval

/// Evaluation spread over shards: the split, the scheduler environments, and three shards merged
/// equal to the single run byte for byte (predictions) and number for number (scores).
final class ShardTests: XCTestCase {
    func testSplitTilesTheSamplesInOrder() throws {
        for total in [0, 1, 2, 7, 100] {
            for n in 1...5 {
                let ranges = try (0..<n).map { try EvalShard(index: $0, count: n).range(of: total) }
                XCTAssertEqual(ranges.first?.lowerBound, 0)
                XCTAssertEqual(ranges.last?.upperBound, total)
                for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
            }
        }
    }

    func testSchedulerEnvironments() throws {
        XCTAssertEqual(try EvalShard.parse("2/5", count: nil, environment: [:]), try EvalShard(index: 2, count: 5))
        let slurm = ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"]
        XCTAssertEqual(try EvalShard.parse("auto", count: nil, environment: slurm), try EvalShard(index: 3, count: 4))
        let slurmFromOne = ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"]
        XCTAssertEqual(try EvalShard.parse("auto", count: nil, environment: slurmFromOne), try EvalShard(index: 3, count: 4))
        XCTAssertEqual(try EvalShard.parse("auto", count: 6, environment: ["JOB_COMPLETION_INDEX": "5"]), try EvalShard(index: 5, count: 6))
        XCTAssertThrowsError(try EvalShard.parse("auto", count: nil, environment: ["JOB_COMPLETION_INDEX": "5"])) {
            XCTAssertEqual($0 as? EvalShard.Failure, .missingCount(variable: "JOB_COMPLETION_INDEX"))
        }
        XCTAssertThrowsError(try EvalShard.parse("auto", count: nil, environment: [:])) { XCTAssertEqual($0 as? EvalShard.Failure, .noEnvironment) }
        XCTAssertThrowsError(try EvalShard.parse("3/3", count: nil, environment: [:])) {
            XCTAssertEqual($0 as? EvalShard.Failure, .outOfRange(index: 3, count: 3))
        }
        XCTAssertThrowsError(try EvalShard.parse("1-3", count: nil, environment: [:]))
    }

    func testThreeShardsMergedEqualTheSingleRun() throws {
        let directory = try ModelDirectory(EvalFixtures.demoModel)
        let model = try ModelLoader.load(directory), tokenizer = try Tokenizer(url: directory.tokenizerURL!)
        var suite = SyntheticSuite(haystack: Haystack(generatedWithSeed: 7), countTokens: { tokenizer.encode($0).count })
        (suite.lengths, suite.depths, suite.seed) = ([300, 600], [0, 0.5, 1], 7)
        let samples = suite.samples(.passkey)
        let jobs = try samples.map { GenerationJob.longBench($0, dataset: try LongBenchDataset($0.dataset)) }
        XCTAssertEqual(jobs.count, 6)
        let out = try EvalFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let lengths = [120, 240]

        var single = EvalRunner(model: model, tokenizer: tokenizer, predictions: out.appendingPathComponent("single.jsonl"))
        single.showProgress = false
        let singleRecords = try single.generate(jobs, maxLengths: lengths)

        var files: [URL] = []
        for i in [2, 0, 1] {   // any order
            let shard = try EvalShard(index: i, count: 3)
            let url = out.appendingPathComponent("predictions-passkey.\(shard.label).jsonl")
            let mine = Array(jobs[shard.range(of: jobs.count)])
            try ShardManifest(task: "passkey", shard: shard, samples: jobs.count, maxLengths: lengths, predictions: mine.count * lengths.count)
                .write(besides: url)
            var runner = EvalRunner(model: model, tokenizer: tokenizer, predictions: url)
            runner.showProgress = false
            _ = try runner.generate(mine, maxLengths: lengths)
            files.append(url)
        }
        let (merged, task) = try ShardMerge.merge(files)
        XCTAssertEqual(task, "passkey")
        XCTAssertEqual(merged, try Data(contentsOf: out.appendingPathComponent("single.jsonl")), "merged predictions differ from the single run")
        let mergedRecords = try JSONLines.decode(PredictionRecord.self, data: merged, path: "merged").map(\.value)
        let a = try EvalResults(records: singleRecords, task: .longBench(nil)).json(settings: [:])
        let b = try EvalResults(records: mergedRecords, task: .longBench(nil)).json(settings: [:])
        XCTAssertEqual(a, b, "scores differ")

        // Refusals: a shard twice, a shard missing, an unfinished shard.
        XCTAssertThrowsError(try ShardMerge.merge(files + [files[0]])) { error in
            guard case .overlap = error as? ShardMerge.Failure else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try ShardMerge.merge(Array(files.dropLast()))) { error in
            guard case .gap = error as? ShardMerge.Failure else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("shard 1 of 3"), "\(error)")
        }
        let text = try String(contentsOf: files[0], encoding: .utf8)
        try String(text.split(separator: "\n").dropLast().joined(separator: "\n") + "\n").write(to: files[0], atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ShardMerge.merge(files)) { error in
            guard case .gap = error as? ShardMerge.Failure else { return XCTFail("\(error)") }
            print("expected error: \(error)")
        }
    }
}

extension ShardTests {
    /// A shard manifest is a file users can edit: its numbers are checked before use (a shard count of −1 made
    /// `eval merge` trap on an empty range before), each refusal naming the manifest file.
    func testMalformedManifestsAreRefusedByName() throws {
        let out = try EvalFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let predictions = out.appendingPathComponent("p.jsonl")
        try Data(#"{"dataset": "hotpotqa", "pred": "Ann", "answers": ["Ann"], "length": 50, "_id": "a"}"#.utf8 + [10]).write(to: predictions)
        let manifest = ShardManifest.url(for: predictions)
        let cases = [
            (#"{"task": "hotpotqa", "shard": {"index": 0, "count": -1}, "samples": 1, "first": 0, "end": 1, "max_lengths": [], "predictions": 1}"#,
             "index 0 is outside 0..<-1"),
            (#"{"task": "hotpotqa", "shard": {"index": 0, "count": 1}, "samples": 1, "first": 1, "end": 0, "max_lengths": [], "predictions": 1}"#,
             "expected 0 ≤ first ≤ end ≤ samples"),
            (#"{"task": "hotpotqa"}"#, "shard"),
        ]
        for (json, words) in cases {
            try Data(json.utf8).write(to: manifest)
            XCTAssertThrowsError(try ShardMerge.merge([predictions])) { error in
                guard case .malformedManifest = error as? ShardMerge.Failure else { return XCTFail("\(error)") }
                XCTAssertTrue("\(error)".hasPrefix(manifest.path) && "\(error)".contains(words), "\(error)")
            }
        }
    }
}
