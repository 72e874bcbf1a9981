import ArgumentParser
import Foundation
import MambaEval
import MambaLM
import OutputFiles
import TensorCore
import Tokenization

/// `remamba eval`: run a benchmark task (the default subcommand) or score a predictions file (`eval score`).
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate on LongBench, L-Eval, multiple choice or the synthetic long-context suite; score predictions.",
        subcommands: [EvalRun.self, EvalScore.self, EvalCompare.self, EvalMerge.self], defaultSubcommand: EvalRun.self)
}

struct EvalRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run --task over --data with --model (or write the synthetic suite).")

    @Option(name: .long, help: "Model directory (config.json + *.safetensors + tokenizer.json).") var model: String?
    @Option(name: .long, help: ArgumentHelp("PEFT LoRA adapter directory merged into --model.", valueName: "dir")) var adapter: String?
    @Option(name: .long, help: "Worker threads (default: all cores).") var threads: Int?
    @Option(name: .long, help: "Task: a LongBench dataset (hotpotqa, hotpotqa_e, …), longbench, synthetic or a synthetic task, an L-Eval task (coursera, quality, tpo, gsm100, codeU, sci_fi), or hellaswag/piqa/arc_easy/arc_challenge/winogrande/openbookqa.") var task: String?
    @Option(name: .long, help: "The task's jsonl file.") var data: String?
    @Option(name: .long, help: "Prompt token limit; a comma list (2000,4000,6000) runs each and plots score against it.") var maxLength = "6000"
    @Option(name: .long, help: "Output directory for predictions, results.json and plots.") var output = "eval-out"
    @Option(name: .long, help: "Predictions jsonl (default: OUTPUT/predictions-TASK.jsonl); appended to, and resumed from.") var predictions: String?
    @Option(name: .long, help: "Only the first N samples of --data.") var limit: Int?
    @Option(name: .long, help: "L-Eval: new tokens per answer (default 512 as L-Eval).") var maxNewTokens: Int?
    @Flag(name: .long, help: "No progress bar.") var noProgress = false
    @Option(name: .long, help: ArgumentHelp("Store the weight matrices as f32, bf16, f16 or q8 (default: as stored).", valueName: "type")) var dtype: String?
    @Option(name: .long, help: ArgumentHelp("Run only shard I of N (0-based; a contiguous block of the samples) and write its own predictions file; \"auto\" reads SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX (docs/EVALUATION.md). Join the shards with `remamba eval merge`.", valueName: "I/N|auto")) var shard: String?
    @Option(name: .long, help: "Number of shards for --shard auto where the environment does not say (Kubernetes Indexed Jobs).") var shardCount: Int?
    @OptionGroup var remamba: ReMambaOptions

    @Option(name: .long, help: ArgumentHelp("Write the synthetic suite (LongBench-format jsonl, one file per task) to this directory.", valueName: "dir")) var generateSuite: String?
    @Option(name: .long, help: "Suite: haystack essays directory (see scripts/fetch_haystack; default $REMAMBA_HAYSTACK_DIR, else generated prose).") var haystack: String?
    @Option(name: .long, help: "Suite: seed.") var seed: UInt64 = 0
    @Option(name: .long, help: "Suite: prompt lengths in tokens.") var lengths = "1024,2048,4096,8192,16384"
    @Option(name: .long, help: "Suite: needle depths in [0, 1].") var depths = "0,0.25,0.5,0.75,1"
    @Option(name: .long, help: "Suite: samples per (length, depth).") var samplesPerCell = 1
    @Option(name: .long, help: "Suite: tokenizer.json (or a model directory) that measures lengths (default: --model's; else ~4/3 tokens per word).") var tokenizer: String?
    @Option(name: .long, help: "Suite: only these tasks (comma list; default: all).") var suiteTasks: String?
    @Flag(name: .long, help: "Suite: write fine-tuning pairs {\"prompt\", \"completion\"} (the filled template and the answer) instead of LongBench jsonl.") var trainingPairs = false

    func validate() throws {
        if generateSuite == nil {
            guard model != nil, task != nil, data != nil else { throw ValidationError("give --model, --task and --data (or --generate-suite DIR)") }
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be ≥ 1") }
        if let maxNewTokens, maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be ≥ 1") }
        if samplesPerCell < 1 { throw ValidationError("--samples-per-cell must be ≥ 1") }
        if shardCount != nil && shard == nil { throw ValidationError("--shard-count needs --shard auto") }
        _ = try evalShard()
        _ = try maxLengths()
        if let dtype { _ = try parseWeightType(dtype, argument: "--dtype") }
    }

    func maxLengths() throws -> [Int] {
        let values = try parseIDs(maxLength, argument: "--max-length")
        guard values.allSatisfy({ $0 >= 2 }) else { throw ValidationError("--max-length values must be ≥ 2") }
        return values
    }

    func run() throws {
        if let threads { Parallel.threads = threads }
        do {
            if let directory = generateSuite { return try writeSuite(to: URL(fileURLWithPath: directory)) }
            try evaluate()
        } catch let error as ValidationError { throw error } catch { throw CommandFailure(error) }
    }

    func evalShard() throws -> EvalShard? {
        guard let shard else { return nil }
        do { return try EvalShard.parse(shard, count: shardCount, environment: ProcessInfo.processInfo.environment) } catch {
            throw ValidationError(error.description)
        }
    }

    /// This shard's block of `items` (all of them without --shard), and the manifest its predictions file gets.
    func share<T>(_ items: [T], predictions: URL, perItem: (T) -> Int) throws -> [T] {
        guard let shard = try evalShard() else { return items }
        let mine = Array(items[shard.range(of: items.count)])
        let lengths = try maxLengths()
        let count = mine.reduce(0) { $0 + perItem($1) }
        try ShardManifest(task: task!, shard: shard, samples: items.count, maxLengths: lengths, predictions: count).write(besides: predictions)
        return mine
    }

    func loadTokenizer(_ directory: ModelDirectory) throws -> Tokenizer {
        guard let url = directory.tokenizerURL else { throw ValidationError("\(directory.url.path): no tokenizer.json, so text cannot be encoded") }
        return try Tokenizer(url: url)
    }

    func evaluate() throws {
        let name = task!, dataURL = URL(fileURLWithPath: data!)
        let kind = try EvalTaskName(name)
        let outputDirectory = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        let shardSuffix = try evalShard().map { ".\($0.label)" } ?? ""
        let predictionsURL = predictions.map { URL(fileURLWithPath: $0) } ?? outputDirectory.appendingPathComponent("predictions-\(name)\(shardSuffix).jsonl")
        let resultsURL = outputDirectory.appendingPathComponent("results-\(name).json")
        try validateOutputs([predictionsURL.path, resultsURL.path])
        let directory = try openModelDirectory(model!, dtype: dtype.map { try parseWeightType($0, argument: "--dtype") })
        let tokenizer = try loadTokenizer(directory)
        let lm = try remamba.loadModel(directory, adapter: adapter.map { try PEFTAdapter(URL(fileURLWithPath: $0)) },
                                       dtype: dtype.map { try parseWeightType($0, argument: "--dtype") })
        var runner = EvalRunner(model: lm, tokenizer: tokenizer, predictions: predictionsURL)
        runner.showProgress = !noProgress
        let lengths = try maxLengths()
        let records: [PredictionRecord]
        switch kind {
        case .longBench(let only):
            var samples = try JSONLines.decode(LongBenchSample.self, from: dataURL)
            if let limit { samples = Array(samples.prefix(limit)) }
            samples = try share(samples, predictions: predictionsURL) { _ in lengths.count }
            let jobs = try samples.map { line, sample in
                let datasetName = only ?? sample.dataset
                do { return GenerationJob.longBench(sample, dataset: try LongBenchDataset(datasetName)) } catch {
                    throw JSONLines.BadLine(path: dataURL.path, line: line, reason: "\(error)")
                }
            }
            records = try runner.generate(jobs, maxLengths: lengths)
        case .lEval(let t):
            var samples = try JSONLines.decode(LEvalSample.self, from: dataURL)
            if let limit { samples = Array(samples.prefix(limit)) }
            for (line, s) in samples where s.instructions.count != s.outputs.count {
                throw JSONLines.BadLine(path: dataURL.path, line: line, reason: "\(s.instructions.count) instructions but \(s.outputs.count) outputs")
            }
            samples = try share(samples, predictions: predictionsURL) { $0.value.instructions.count * lengths.count }
            let jobs = samples.flatMap { GenerationJob.lEval($0.value, line: $0.line, task: t, maxNewTokens: maxNewTokens ?? LEvalTask.maxNewTokens) }
            records = try runner.generate(jobs, maxLengths: lengths)
        case .multipleChoice(let t):
            var samples = try JSONLines.decode(MultipleChoiceSample.self, from: dataURL)
            if let limit { samples = Array(samples.prefix(limit)) }
            for (line, s) in samples {
                do { _ = try s.requests() } catch { throw JSONLines.BadLine(path: dataURL.path, line: line, reason: "\(error)") }
            }
            samples = try share(samples, predictions: predictionsURL) { _ in 1 }
            records = try runner.multipleChoice(samples, dataset: t)
        }
        if let shard = try evalShard() {
            printError("shard \(shard.index)/\(shard.count): \(records.count) predictions in \(predictionsURL.path); join the shards with `remamba eval merge`")
            return
        }
        let results = try EvalResults(records: records, task: kind)
        var settings: [String: Any] = ["task": name, "model": model!, "data": data!, "predictions": predictionsURL.path, "max_lengths": lengths]
        if let s = remamba.settings(defaults: directory.configuration.compressionDefaults) {
            settings["remamba"] = ["start": s.start, "length": s.length, "ratio": s.ratio, "selection": remamba.selection, "adaptation": remamba.adaptation]
        }
        let json = try results.json(settings: settings)
        try OutputFile.write(json, to: resultsURL.path)
        let plots = try results.writePlots(to: outputDirectory, title: name)
        FileHandle.standardOutput.write(json)
        print("")
        printError("results: \(resultsURL.path); predictions: \(predictionsURL.path); plots: \(plots.map(\.lastPathComponent).joined(separator: ", "))")
    }

    func writeSuite(to directory: URL) throws {
        let hay = try Haystack.load(directory: haystack, seed: seed)
        var counter: Tokenizer?
        if let tokenizer {
            // A model directory stands for its tokenizer.json, as in `remamba tokenize`.
            var isDirectory: ObjCBool = false
            let url = URL(fileURLWithPath: tokenizer)
            let file = FileManager.default.fileExists(atPath: tokenizer, isDirectory: &isDirectory) && isDirectory.boolValue
                ? url.appendingPathComponent("tokenizer.json") : url
            counter = try Tokenizer(url: file)
        }
        else if let model { counter = try loadTokenizer(try openModelDirectory(model)) }
        var suite = SyntheticSuite(haystack: hay, countTokens: counter.map { t in { t.encode($0).count } })
        suite.lengths = try parseIDs(lengths, argument: "--lengths")
        suite.depths = try depths.split(separator: ",").map { part in
            guard let d = Double(part.trimmingCharacters(in: .whitespaces)), (0...1).contains(d) else {
                throw ValidationError("--depths: \"\(part)\" is not a number in [0, 1]")
            }
            return d
        }
        suite.samplesPerCell = samplesPerCell
        suite.seed = seed
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tasks = try suiteTasks.map { list in
            try list.split(separator: ",").map { name in
                guard let task = SyntheticTask(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--suite-tasks: unknown task \"\(name)\"; known: \(SyntheticTask.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return task
            }
        } ?? SyntheticTask.allCases
        for task in tasks {
            let url = directory.appendingPathComponent("\(task.rawValue).jsonl")
            let samples = suite.samples(task)
            if trainingPairs { try JSONLines.write(samples.map { TrainingPair($0, task: task) }, to: url) } else { try JSONLines.write(samples, to: url) }
            printError("\(url.path): \(samples.count) samples")
        }
        printError("haystack: \(hay.source); lengths measured with \(counter == nil ? "~4/3 tokens per word" : "the tokenizer")")
    }
}

/// `remamba eval score`: LongBench's eval.py over one predictions file of any engine.
struct EvalScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a predictions jsonl (dataset, pred, answers, all_classes, length per line) as LongBench's eval.py; prints result.json.")

    @Option(name: .long, help: "Predictions jsonl.") var predictions: String
    @Flag(name: .customLong("e"), help: "LongBench-E: scores per length bucket (0-4k, 4-8k, 8k+).") var lengthBuckets = false

    func run() throws {
        do {
            let records = try PredictionScoring.read(URL(fileURLWithPath: predictions))
            print(PredictionScoring.json(try PredictionScoring.score(records, byLength: lengthBuckets)))
        } catch { throw CommandFailure(error) }
    }
}
