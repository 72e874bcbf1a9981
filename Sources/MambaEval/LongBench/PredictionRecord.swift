import Foundation

/// One line of a predictions file as LongBench's pred.py writes it, plus the dataset name so that a single
/// file can hold several datasets: {"dataset", "pred", "answers", "all_classes", "length"} (+ "_id" if known).
public struct PredictionRecord: Codable, Sendable, Equatable {
    public var dataset: String
    public var pred: String
    public var answers: [String]
    public var allClasses: [String]?
    public var length: Int?
    public var id: String?
    /// Written by `remamba eval` (ignored by the scorer): the --max-length of the run, the needle depth, and for
    /// multiple choice the log-likelihood and length of each choice and the gold index.
    public var maxLength: Int?
    public var depth: Double?
    public var logLikelihoods: [Double]?
    public var choiceLengths: [Int]?
    public var gold: Int?

    enum CodingKeys: String, CodingKey {
        case dataset, pred, answers, allClasses = "all_classes", length, id = "_id", maxLength = "max_length", depth
        case logLikelihoods = "loglikelihoods", choiceLengths = "choice_lengths", gold
    }

    public init(dataset: String, pred: String, answers: [String], allClasses: [String]?, length: Int?, id: String?,
                maxLength: Int? = nil, depth: Double? = nil, logLikelihoods: [Double]? = nil, choiceLengths: [Int]? = nil, gold: Int? = nil) {
        self.dataset = dataset; self.pred = pred; self.answers = answers
        self.allClasses = allClasses; self.length = length; self.id = id
        self.maxLength = maxLength; self.depth = depth; self.logLikelihoods = logLikelihoods
        self.choiceLengths = choiceLengths; self.gold = gold
    }
}

/// `remamba eval score`: scores a predictions file as LongBench's eval.py scores its pred/ folder.
public enum PredictionScoring {
    public enum Failure: Error, CustomStringConvertible {
        case badLine(path: String, line: Int, reason: String), empty(String), missingLength(dataset: String, line: Int)
        public var description: String {
            switch self {
            case let .badLine(path, line, reason): return "\(path):\(line): \(reason)"
            case .empty(let path): return "\(path): no predictions in the file"
            case let .missingLength(dataset, line): return "line \(line) (\(dataset)): --e needs \"length\" on every line"
            }
        }
    }

    public static func read(_ url: URL) throws -> [PredictionRecord] {
        let records = try JSONLines.decode(PredictionRecord.self, from: url)
        if records.isEmpty { throw Failure.empty(url.path) }
        return records.map(\.value)
    }

    /// {dataset: score} in the order datasets first appear; with `byLength`, {dataset: {bucket: score}}.
    /// As eval.py, `all_classes` of a dataset's last line is used for all its lines.
    public static func score(_ records: [PredictionRecord], byLength: Bool) throws -> [(String, ScoreValue)] {
        var order: [String] = []
        var groups: [String: [(Int, PredictionRecord)]] = [:]
        for (i, r) in records.enumerated() {
            if groups[r.dataset] == nil { order.append(r.dataset) }
            groups[r.dataset, default: []].append((i + 1, r))
        }
        return try order.map { name in
            let dataset = try LongBenchDataset(name)
            let lines = groups[name]!
            let classes = lines.last!.1.allClasses ?? []
            if byLength {
                var buckets: [String: [Double]] = [:]
                for (line, r) in lines {
                    guard let length = r.length else { throw Failure.missingLength(dataset: name, line: line) }
                    buckets[LongBenchScorer.bucket(length: length), default: []]
                        .append(try dataset.sampleScore(prediction: r.pred, answers: r.answers, allClasses: classes))
                }
                return (name, .buckets(LongBenchScorer.buckets.map { ($0, LongBenchScorer.bucketScore(buckets[$0] ?? [])) }))
            }
            let scores = try lines.map { try dataset.sampleScore(prediction: $0.1.pred, answers: $0.1.answers, allClasses: classes) }
            return (name, .single(LongBenchScorer.score(scores)))
        }
    }

    public enum ScoreValue: Equatable {
        case single(Double), buckets([(String, Double)])
        public static func == (a: ScoreValue, b: ScoreValue) -> Bool {
            switch (a, b) {
            case let (.single(x), .single(y)): return x == y || (x.isNaN && y.isNaN)
            case let (.buckets(x), .buckets(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && ($0.1 == $1.1 || ($0.1.isNaN && $1.1.isNaN)) }
            default: return false
            }
        }
    }

    /// The result.json text: `json.dump(scores, f, ensure_ascii=False, indent=4)`.
    public static func json(_ scores: [(String, ScoreValue)]) -> String {
        if scores.isEmpty { return "{}" }
        var lines: [String] = []
        for (name, value) in scores {
            switch value {
            case .single(let s): lines.append("    \(JSONText.string(name)): \(JSONText.number(s))")
            case .buckets(let b):
                let inner = b.map { "        \(JSONText.string($0.0)): \(JSONText.number($0.1))" }.joined(separator: ",\n")
                lines.append("    \(JSONText.string(name)): {\n\(inner)\n    }")
            }
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n}"
    }
}
