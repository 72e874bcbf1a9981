import Foundation
import Plots

/// Scores of a run's predictions per dataset and max length, written as results.json and SVG plots.
public struct EvalResults {
    public struct Entry {
        public var dataset: String
        public var maxLength: Int?
        public var count: Int
        /// LongBench score (100 × mean), L-Eval exam score, or 100 × acc for multiple choice.
        public var score: Double
        public var buckets: [(String, Double)] = []
        public var accNorm: Double?
        /// Mean score per (context length rounded up to 1k, depth) for needle tasks.
        public var cells: [Int: [Double: Double]] = [:]
    }

    public var entries: [Entry] = []

    /// Scores every (dataset, max_length) group of the records as the task defines.
    public init(records: [PredictionRecord], task: EvalTaskName) throws {
        var groups: [String: [PredictionRecord]] = [:]
        var order: [String] = []
        for r in records {
            let key = "\(r.dataset)\u{1}\(r.maxLength ?? 0)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        for key in order {
            let group = groups[key]!
            let first = group[0]
            switch task {
            case .longBench:
                let dataset = try LongBenchDataset(first.dataset)
                let classes = group.last!.allClasses ?? []
                let scores = try group.map { try dataset.sampleScore(prediction: $0.pred, answers: $0.answers, allClasses: classes) }
                var entry = Entry(dataset: first.dataset, maxLength: first.maxLength, count: group.count, score: LongBenchScorer.score(scores))
                if group.allSatisfy({ $0.length != nil }) {
                    var buckets: [String: [Double]] = [:]
                    for (r, s) in zip(group, scores) { buckets[LongBenchScorer.bucket(length: r.length!), default: []].append(s) }
                    entry.buckets = LongBenchScorer.buckets.map { ($0, LongBenchScorer.bucketScore(buckets[$0] ?? [])) }
                }
                var cells: [Int: [Double: [Double]]] = [:]
                for (r, s) in zip(group, scores) {
                    guard let depth = r.depth, let length = r.length else { continue }
                    cells[(length + 1023) / 1024 * 1024, default: [:]][depth, default: []].append(s)
                }
                entry.cells = cells.mapValues { $0.mapValues { 100 * $0.reduce(0, +) / Double($0.count) } }
                entries.append(entry)
            case .lEval(let t):
                let pairs = try group.flatMap { try t.scoredPairs(prediction: $0.pred, groundTruth: $0.answers.first ?? "") }
                entries.append(Entry(dataset: first.dataset, maxLength: first.maxLength, count: group.count, score: LEvalTask.score(pairs)))
            case .multipleChoice:
                var acc = 0, accNorm = 0
                for r in group {
                    guard let lls = r.logLikelihoods, let lengths = r.choiceLengths, let gold = r.gold else { continue }
                    let p = MultipleChoiceScoring.predictions(logLikelihoods: lls, choiceLengths: lengths)
                    acc += p.acc == gold ? 1 : 0
                    accNorm += p.accNorm == gold ? 1 : 0
                }
                entries.append(Entry(dataset: first.dataset, maxLength: nil, count: group.count,
                                     score: 100 * Double(acc) / Double(group.count), accNorm: 100 * Double(accNorm) / Double(group.count)))
            }
        }
    }

    /// results.json: run settings plus one object per (dataset, max_length).
    public func json(settings: [String: Any]) throws -> Data {
        func number(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        let list: [[String: Any]] = entries.map { e in
            var o: [String: Any] = ["dataset": e.dataset, "samples": e.count, "score": number(e.score)]
            if let m = e.maxLength { o["max_length"] = m }
            if let a = e.accNorm { o["acc"] = number(e.score / 100); o["acc_norm"] = number(a / 100) }
            if !e.buckets.isEmpty { o["length_buckets"] = Dictionary(uniqueKeysWithValues: e.buckets.map { ($0.0, number($0.1)) }) }
            if !e.cells.isEmpty {
                o["depth_by_length"] = Dictionary(uniqueKeysWithValues: e.cells.map { length, row in
                    (String(length), Dictionary(uniqueKeysWithValues: row.map { (String(format: "%.2f", $0.key), $0.value) }))
                })
            }
            return o
        }
        var root = settings
        root["results"] = list
        return try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
    }

    /// score-vs-max-length.svg and one heatmap-<dataset>-<max length>.svg per needle dataset; returns the files.
    public func writePlots(to directory: URL, title: String) throws -> [URL] {
        var written: [URL] = []
        let datasets = entries.reduce(into: [String]()) { if !$0.contains($1.dataset) { $0.append($1.dataset) } }
        let series = datasets.map { name in
            (name: name, points: entries.filter { $0.dataset == name && $0.maxLength != nil }.map { (x: Double($0.maxLength!), y: $0.score) })
        }.filter { !$0.points.isEmpty }
        if !series.isEmpty {
            let url = directory.appendingPathComponent("score-vs-max-length.svg")
            try LineChart(title: "\(title): score against max length", series: series).render().write(to: url)
            written.append(url)
        }
        for e in entries where !e.cells.isEmpty {
            let lengths = e.cells.keys.sorted()
            let depths = Set(e.cells.values.flatMap(\.keys)).sorted()
            let url = directory.appendingPathComponent("heatmap-\(e.dataset)-\(e.maxLength ?? 0).svg")
            try HeatMap(title: "\(e.dataset) (max length \(e.maxLength ?? 0))", lengths: lengths, depths: depths) { e.cells[$0]?[$1] }
                .render().write(to: url)
            written.append(url)
        }
        return written
    }
}
