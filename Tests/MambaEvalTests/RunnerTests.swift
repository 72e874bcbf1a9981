import Foundation
import MambaLM
import Tokenization
import XCTest
@testable import MambaEval

/// The runner on the random demo model (scores are meaningless; files, resume and shapes are checked).
final class RunnerTests: XCTestCase {
    func demo() throws -> (any LanguageModel, Tokenizer) {
        let directory = try ModelDirectory(EvalFixtures.demoModel)
        return (try ModelLoader.load(directory), try Tokenizer(url: directory.tokenizerURL!))
    }

    func suite(_ tokenizer: Tokenizer?) -> SyntheticSuite {
        var suite = SyntheticSuite(haystack: Haystack(generatedWithSeed: 7), countTokens: tokenizer.map { t in { t.encode($0).count } })
        suite.lengths = [1000, 2000]
        suite.depths = [0, 0.5, 1]
        suite.seed = 7
        return suite
    }

    func testSuiteIsDeterministicAndHidesTheNeedle() throws {
        let (_, tokenizer) = try demo()
        for task in SyntheticTask.allCases {
            let a = suite(tokenizer).samples(task), b = suite(tokenizer).samples(task)
            XCTAssertEqual(a, b, "\(task) is not deterministic")
            XCTAssertEqual(a.count, task.hasDepth ? 6 : 2)
            XCTAssertEqual(Set(a.map(\.id)).count, a.count, "ids must be unique")
            for s in a {
                let dataset = try LongBenchDataset(s.dataset)
                let prompt = LongBenchPrompts.fill(dataset.promptTemplate, context: s.context, input: s.input)
                XCTAssertEqual(tokenizer.encode(prompt).count, s.length)
                XCTAssertLessThanOrEqual(s.length, s.id.contains("-1000-") ? 1000 : 2000, "\(s.id)")
                // The answer scores 1 with the task's own metric (the needle is there and the metric sees it).
                XCTAssertEqual(try dataset.sampleScore(prediction: s.answers[0], answers: s.answers, allClasses: []), 1, "\(s.id)")
                if task == .passkey || task == .keyValueRetrieval || task == .multikeyNeedle {
                    XCTAssertTrue(s.context.contains(s.answers[0]), "\(s.id): needle missing")
                }
            }
        }
        let passkey = suite(tokenizer).samples(.passkey)
        XCTAssertTrue(passkey[0].context.hasPrefix("The pass key is"), "depth 0 puts the needle first")
        XCTAssertTrue(passkey[2].context.hasSuffix("is the pass key."), "depth 1 puts the needle last")
    }

    /// Fine-tuning pairs hold the prompt exactly as the evaluation fills it, and the answer after a space.
    func testTrainingPairsAreTheEvaluationPrompts() throws {
        let (_, tokenizer) = try demo()
        for s in suite(tokenizer).samples(.passkey) {
            let pair = TrainingPair(s, task: .passkey)
            XCTAssertEqual(pair.prompt, LongBenchPrompts.fill(try LongBenchDataset(s.dataset).promptTemplate, context: s.context, input: s.input))
            XCTAssertTrue(pair.prompt.hasSuffix("Answer:"), s.id)
            XCTAssertEqual(pair.completion, " " + s.answers[0])
        }
    }

    func testRunnerAppendsAndResumes() throws {
        let (model, tokenizer) = try demo()
        let directory = try EvalFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let samples = Array(suite(tokenizer).samples(.passkey).prefix(3))
        let jobs = try samples.map { GenerationJob.longBench($0, dataset: try LongBenchDataset($0.dataset)) }
        for job in jobs { XCTAssertLessThanOrEqual(job.promptTokens(tokenizer: tokenizer, maxLength: 100).count, 102) }
        let url = directory.appendingPathComponent("predictions.jsonl")
        var runner = EvalRunner(model: model, tokenizer: tokenizer, predictions: url)
        runner.showProgress = false
        let first = try runner.generate(jobs, maxLengths: [100])
        XCTAssertEqual(first.count, 3)
        // Drop the last line, as if the run had been stopped: the rerun makes only that one.
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        try (lines.dropLast().joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        let resumed = try runner.generate(jobs, maxLengths: [100, 200])
        XCTAssertEqual(resumed.count, 6)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8).split(separator: "\n").count, 6)
        XCTAssertEqual(resumed.filter { $0.maxLength == 100 }.map(\.id), first.map(\.id))
        XCTAssertEqual(resumed.last(where: { $0.id == first[2].id && $0.maxLength == 100 })?.pred, first[2].pred, "greedy is deterministic")

        let results = try EvalResults(records: resumed, task: .longBench(nil))
        XCTAssertEqual(results.entries.map(\.maxLength), [100, 200])
        XCTAssertEqual(results.entries[0].cells.values.map(\.count).reduce(0, +), 3)
        let plots = try results.writePlots(to: directory, title: "passkey")
        XCTAssertEqual(plots.map(\.lastPathComponent), ["score-vs-max-length.svg", "heatmap-passkey-100.svg", "heatmap-passkey-200.svg"])
        let json = try JSONSerialization.jsonObject(with: try results.json(settings: ["task": "passkey"])) as! [String: Any]
        XCTAssertEqual((json["results"] as! [Any]).count, 2)
    }

    /// Prefill-then-step log-likelihood against its slow twin: a fresh prefill of every prefix.
    func testLogLikelihoodMatchesPrefixPrefills() throws {
        let (model, tokenizer) = try demo()
        let pair = LogLikelihood.encodePair(context: "The cat sat on the ", continuation: "mat today", tokenizer: tokenizer, endOfText: 0)
        XCTAssertEqual(tokenizer.decode(pair.context + pair.continuation), "The cat sat on the mat today")
        XCTAssertEqual(tokenizer.decode(pair.continuation).first, " ", "trailing context spaces move to the continuation")
        let fast = try LogLikelihood.score(model: model, context: pair.context, continuation: pair.continuation).logLikelihood
        var slow = 0.0
        for k in pair.continuation.indices {
            var state = model.makeState()
            let logits = try model.prefill(pair.context + pair.continuation[..<k], state: &state)
            slow += LogLikelihood.logSoftmax(logits.data, at: pair.continuation[k]).0
        }
        print("log-likelihood: step path \(fast), prefix prefills \(slow), |diff| = \(abs(fast - slow)) (tolerance 1e-3)")
        XCTAssertEqual(fast, slow, accuracy: 1e-3)
    }

    func testMultipleChoiceRecordsAndAccuracies() throws {
        let (model, tokenizer) = try demo()
        let directory = try EvalFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let samples: [(line: Int, value: MultipleChoiceSample)] = [
            (1, MultipleChoiceSample(context: "Question: what is hot?\nAnswer:", choices: ["fire", "ice", "snow"], gold: 0)),
            (2, MultipleChoiceSample(contexts: ["The trophy did not fit because the trophy", "The trophy did not fit because the case"], continuation: "was too big.", gold: 0)),
        ]
        var runner = EvalRunner(model: model, tokenizer: tokenizer, predictions: directory.appendingPathComponent("mc.jsonl"))
        runner.showProgress = false
        let records = try runner.multipleChoice(samples, dataset: "piqa")
        XCTAssertEqual(records.map { $0.logLikelihoods?.count }, [3, 2])
        XCTAssertEqual(records[0].choiceLengths, [4, 3, 4])
        XCTAssertEqual(try runner.multipleChoice(samples, dataset: "piqa").count, 2, "resumed, nothing new")
        let results = try EvalResults(records: records, task: .multipleChoice("piqa"))
        XCTAssertEqual(results.entries.count, 1)
        XCTAssertNotNil(results.entries[0].accNorm)
        // acc_norm divides by the characters of each choice; ties go to the first index.
        XCTAssertEqual(MultipleChoiceScoring.predictions(logLikelihoods: [-4, -3, -6], choiceLengths: [4, 1, 6]).accNorm, 0)
        XCTAssertEqual(MultipleChoiceScoring.argmax([-1, -1]), 0)
        XCTAssertThrowsError(try MultipleChoiceSample(context: "x", choices: ["a"], gold: 3).requests())
    }

    func testLEvalJobsTruncateTheDocument() throws {
        let (_, tokenizer) = try demo()
        let document = (0..<400).map { "word\($0)" }.joined(separator: " ")
        let sample = LEvalSample(input: document, instructions: ["Which is right? A. x B. y", "Second?"], outputs: ["A", "B"], evaluation: "exam")
        let jobs = GenerationJob.lEval(sample, line: 3, task: .quality, maxNewTokens: 8)
        XCTAssertEqual(jobs.map(\.id), ["3-0", "3-1"])
        let ids = jobs[0].promptTokens(tokenizer: tokenizer, maxLength: 300)
        let text = tokenizer.decode(ids)
        XCTAssertTrue(text.contains("word0 "), "quality keeps the beginning")
        XCTAssertFalse(text.contains("word399"))
        XCTAssertTrue(text.hasSuffix("Please directly give answer without any additonal output or explanation \nAnswer:"))
        let code = GenerationJob.lEval(sample, line: 1, task: .codeU, maxNewTokens: 8)[0].promptTokens(tokenizer: tokenizer, maxLength: 300)
        XCTAssertTrue(tokenizer.decode(code).contains("word399"), "codeU keeps the end")
        XCTAssertEqual(try LEvalTask.sciFi.scoredPairs(prediction: "True [fact: False]", groundTruth: "True [fact: True]").map { $0.0 + "/" + $0.1 },
                       ["true/true", "false/true"])
        XCTAssertEqual(LEvalTask.score([("A", "A"), ("A", "AB"), ("C", "B")]), 41.6667)
    }
}
