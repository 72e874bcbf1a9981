import ArgumentParser
import Foundation
import MambaEval

/// `remamba eval compare`: score against prompt length for several prediction files (one per model or
/// variant), as a markdown table on stdout and a line plot.
struct EvalCompare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare runs by prompt length: NAME=predictions.jsonl pairs → markdown table + SVG plot.")

    @Option(name: .customLong("run"), help: ArgumentHelp("A run as NAME=predictions.jsonl, repeatable.", valueName: "name=file")) var runPairs: [String] = []
    @Option(name: .long, help: "Length bins in tokens: each prediction goes to the smallest bin ≥ its prompt length.")
    var bins = "1024,2048,4096,8192,16384"
    @Option(name: .long, help: "Plot title.") var title = "Score against prompt length"
    @Option(name: .long, help: ArgumentHelp("Where to write the SVG plot.", valueName: "file.svg")) var out: String

    func loadRuns() throws -> [LengthComparison.Run] {
        try runPairs.map { pair in
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex, pair.index(after: equals) != pair.endIndex else {
                throw ValidationError("--run \"\(pair)\": expected NAME=predictions.jsonl")
            }
            let path = String(pair[pair.index(after: equals)...])
            return LengthComparison.Run(name: String(pair[..<equals]), records: try PredictionScoring.read(URL(fileURLWithPath: path)))
        }
    }

    func run() throws {
        guard !runPairs.isEmpty else { throw ValidationError("give at least one --run NAME=predictions.jsonl") }
        try validateOutputs([out])
        let binValues = try parseIDs(bins, argument: "--bins")
        guard !binValues.isEmpty, binValues.allSatisfy({ $0 > 0 }) else { throw ValidationError("--bins must be positive token counts") }
        do {
            let comparison = try LengthComparison(try loadRuns(), bins: binValues)
            print(comparison.markdown)
            try comparison.chart(title: title).render().write(to: URL(fileURLWithPath: out))
            printError("plot: \(out)")
        } catch let error as ValidationError { throw error } catch { throw CommandFailure(error) }
    }
}
