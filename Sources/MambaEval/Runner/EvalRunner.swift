import Foundation
import MambaLM
import Tokenization

/// Runs jobs through a model and appends every prediction to a jsonl as soon as it is made; a rerun reads that
/// file first and skips the (id, max_length) pairs already there, so a stopped run resumes where it was.
public struct EvalRunner {
    public let model: any LanguageModel
    public let tokenizer: Tokenizer
    public let predictions: URL
    public var showProgress = true

    public init(model: any LanguageModel, tokenizer: Tokenizer, predictions: URL) {
        self.model = model; self.tokenizer = tokenizer; self.predictions = predictions
    }

    static func key(_ id: String?, _ maxLength: Int?) -> String { "\(id ?? "")@\(maxLength ?? 0)" }

    /// The records already in the predictions file (none if it does not exist yet).
    public func existing() throws -> [PredictionRecord] {
        guard FileManager.default.fileExists(atPath: predictions.path) else { return [] }
        return try JSONLines.decode(PredictionRecord.self, from: predictions).map(\.value)
    }

    /// Greedy generation for every job at every max length; returns all records of the file afterwards.
    public func generate(_ jobs: [GenerationJob], maxLengths: [Int]) throws -> [PredictionRecord] {
        var records = try existing()
        let done = Set(records.map { Self.key($0.id, $0.maxLength) })
        let todo = maxLengths.flatMap { m in jobs.map { (m, $0) } }.filter { !done.contains(Self.key($0.1.id, $0.0)) }
        var bar = ProgressBar(total: jobs.count * maxLengths.count, alreadyDone: jobs.count * maxLengths.count - todo.count, enabled: showProgress)
        for (maxLength, job) in todo {
            // A transformer reads at most its trained positions (the paper caps llama2-3b at 2k): the prompt is
            // truncated there, the record keeps the asked length.
            let cap = min(maxLength, model.positionLimit ?? maxLength)
            var text = try complete(job.promptTokens(tokenizer: tokenizer, maxLength: cap), job: job)
            if let fact = job.factPrompt {
                text += " [fact: \(try complete(tokenizer.encode(fact), job: job))]"
            }
            let record = PredictionRecord(dataset: job.dataset, pred: text, answers: job.answers, allClasses: job.allClasses,
                                          length: job.length, id: job.id, maxLength: maxLength, depth: job.depth)
            try JSONLines.append(record, to: predictions)
            records.append(record)
            bar.advance(label: "\(job.dataset) \(job.id)")
        }
        return records
    }

    func complete(_ prompt: [Int], job: GenerationJob) throws -> String {
        let parameters = GenerateParameters(maxTokens: job.maxNewTokens, temperature: 0, stopStrings: job.stopStrings)
        let ids = prompt.isEmpty ? [model.eosTokenID ?? 0] : prompt
        return try TextGeneration.stream(model: model, tokenizer: tokenizer, prompt: ids, parameters: parameters) { _ in }.text
    }

    /// Log-likelihood of every choice of every question; the prediction is the acc choice.
    public func multipleChoice(_ samples: [(line: Int, value: MultipleChoiceSample)], dataset: String) throws -> [PredictionRecord] {
        var records = try existing()
        let done = Set(records.map { Self.key($0.id, $0.maxLength) })
        let todo = samples.filter { !done.contains(Self.key($0.value.id ?? "\($0.line)", nil)) }
        var bar = ProgressBar(total: samples.count, alreadyDone: samples.count - todo.count, enabled: showProgress)
        let endOfText = model.eosTokenID ?? tokenizer.eosTokenID ?? 0
        for (line, sample) in todo {
            let requests: [(context: String, continuation: String)]
            do { requests = try sample.requests() } catch { throw JSONLines.BadLine(path: predictions.lastPathComponent, line: line, reason: "\(error)") }
            var lls: [Double] = []
            for request in requests {
                let pair = LogLikelihood.encodePair(context: request.context, continuation: request.continuation, tokenizer: tokenizer, endOfText: endOfText)
                lls.append(try LogLikelihood.score(model: model, context: pair.context, continuation: pair.continuation).logLikelihood)
            }
            let choice = MultipleChoiceScoring.predictions(logLikelihoods: lls, choiceLengths: sample.choiceLengths)
            let record = PredictionRecord(dataset: dataset, pred: String(choice.acc), answers: [String(sample.gold)], allClasses: nil,
                                          length: nil, id: sample.id ?? "\(line)", maxLength: nil, depth: nil,
                                          logLikelihoods: lls, choiceLengths: sample.choiceLengths, gold: sample.gold)
            try JSONLines.append(record, to: predictions)
            records.append(record)
            bar.advance(label: "\(dataset) \(record.id ?? "")")
        }
        return records
    }
}
