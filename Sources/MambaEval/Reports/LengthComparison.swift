import Plots

/// Score against prompt length for several runs on the same samples (the paper's Fig. 3 shape): each
/// prediction goes to the smallest bin ≥ its prompt length (`length`, in tokens), and a bin's score is
/// 100 × the mean of its samples' scores (eval.py's per-sample score).
public struct LengthComparison {
    public struct Run {
        public let name: String
        public let records: [PredictionRecord]
        public init(name: String, records: [PredictionRecord]) { (self.name, self.records) = (name, records) }
    }

    public enum Failure: Error, CustomStringConvertible {
        case noLength(run: String, id: String?)
        case beyondBins(run: String, length: Int, largest: Int)
        public var description: String {
            switch self {
            case .noLength(let run, let id): return "\(run): prediction \(id ?? "(no _id)") has no \"length\" to bin it by"
            case .beyondBins(let run, let length, let largest): return "\(run): a prompt of \(length) tokens is longer than the largest bin (\(largest)); add a larger bin"
            }
        }
    }

    public let bins: [Int]
    /// [run][bin]: (score, samples); score nil for an empty bin.
    public let table: [(name: String, cells: [(score: Double?, samples: Int)])]

    public init(_ runs: [Run], bins: [Int]) throws {
        let bins = bins.sorted()
        self.bins = bins
        table = try runs.map { run in
            var sums = [Double](repeating: 0, count: bins.count), counts = [Int](repeating: 0, count: bins.count)
            for r in run.records {
                guard let length = r.length else { throw Failure.noLength(run: run.name, id: r.id) }
                guard let bin = bins.firstIndex(where: { length <= $0 }) else {
                    throw Failure.beyondBins(run: run.name, length: length, largest: bins.last ?? 0)
                }
                sums[bin] += try LongBenchDataset(r.dataset).sampleScore(prediction: r.pred, answers: r.answers, allClasses: r.allClasses ?? [])
                counts[bin] += 1
            }
            return (run.name, bins.indices.map { (counts[$0] == 0 ? nil : 100 * sums[$0] / Double(counts[$0]), counts[$0]) })
        }
    }

    /// A markdown table: one row per bin, one column per run ("score (samples)").
    public var markdown: String {
        var lines = ["| prompt length ≤ | " + table.map(\.name).joined(separator: " | ") + " |",
                     "|---|" + String(repeating: "---|", count: table.count)]
        for (i, bin) in bins.enumerated() {
            let cells = table.map { run -> String in
                let cell = run.cells[i]
                return cell.score.map { String(format: "%.1f (%d)", $0, cell.samples) } ?? "– (0)"
            }
            lines.append("| \(bin) | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    public func chart(title: String) -> LineChart {
        var chart = LineChart(title: title, series: table.map { run in
            (name: run.name, points: bins.indices.compactMap { i in run.cells[i].score.map { (x: Double(bins[i]), y: $0) } })
        })
        chart.xLabel = "prompt length (tokens)"
        return chart
    }
}
