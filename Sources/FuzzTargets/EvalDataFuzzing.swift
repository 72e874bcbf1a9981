import Foundation
import MambaEval
import Tokenization

/// The input as the jsonl files of `remamba eval`: LongBench samples (prompt built, truncated to 64 tokens,
/// scored against its own answers), L-Eval documents (one job per instruction, every task's answer
/// extraction), multiple-choice questions and prediction files (`eval score`); and as the shard manifest
/// (`.shard.json`) beside a one-line predictions file, merged as `eval merge` does.
enum EvalDataFuzzing {
    static let tokenizer = TrainingDataFuzzing.tokenizer
    /// Made per input, not kept in a static: LeakSanitizer reports a Data alive at exit (see fuzz/lsan-suppressions.txt, 2).
    static var predictions: Data { Data(#"{"dataset": "hotpotqa", "pred": "Ann", "answers": ["Ann"], "all_classes": null, "length": 50, "_id": "a"}"#.utf8 + [10]) }

    static func run(_ data: Data) {
        let folder = FuzzScratch.folder("eval-merge", files: ["p.jsonl": predictions, "p.jsonl.shard.json": data])
        _ = try? ShardMerge.merge([folder.appendingPathComponent("p.jsonl")])
        guard let tokenizer else { return }
        let path = "fuzz.jsonl"
        if let lines = try? JSONLines.decode(LongBenchSample.self, data: data, path: path) {
            for (_, sample) in lines {
                guard let dataset = try? LongBenchDataset(sample.dataset) else { continue }
                _ = GenerationJob.longBench(sample, dataset: dataset).promptTokens(tokenizer: tokenizer, maxLength: 64)
                _ = try? dataset.sampleScore(prediction: sample.input, answers: sample.answers, allClasses: sample.allClasses ?? [])
            }
        }
        if let lines = try? JSONLines.decode(LEvalSample.self, data: data, path: path) {
            for (line, sample) in lines {
                for task in LEvalTask.allCases {
                    for job in GenerationJob.lEval(sample, line: line, task: task, maxNewTokens: 16) {
                        _ = job.promptTokens(tokenizer: tokenizer, maxLength: 64)
                    }
                    for (output, instruction) in zip(sample.outputs, sample.instructions) {
                        _ = try? LEvalTask.score(task.scoredPairs(prediction: instruction, groundTruth: output))
                    }
                }
            }
        }
        if let lines = try? JSONLines.decode(MultipleChoiceSample.self, data: data, path: path) {
            for (_, sample) in lines { _ = try? sample.requests(); _ = sample.choiceLengths }
        }
        if let lines = try? JSONLines.decode(PredictionRecord.self, data: data, path: path) {
            for byLength in [false, true] {
                if let scores = try? PredictionScoring.score(lines.map(\.value), byLength: byLength) { _ = PredictionScoring.json(scores) }
            }
        }
    }
}
