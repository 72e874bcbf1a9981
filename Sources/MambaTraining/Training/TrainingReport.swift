import Foundation
import OutputFiles
import Plots

/// The run's outputs besides the weights: a JSONL line per step, a progress line on stderr (at most a few
/// times a second) and the loss curve as SVG.
public struct TrainingReport {
    public let logURL: URL
    public let chartURL: URL
    private var lastProgress = Date.distantPast
    private let started = Date()
    private var stepsThisSession = 0
    private var tokensThisSession = 0

    public init(directory: URL) {
        logURL = directory.appendingPathComponent("train_log.jsonl")
        chartURL = directory.appendingPathComponent("loss.svg")
    }

    /// Logs `record` and, unless one was shown less than 0.25 s ago (or `force`), a progress line.
    public mutating func record(_ record: StepRecord, totalSteps: Int, force: Bool = false) throws {
        try Self.append(record, to: logURL)
        stepsThisSession += 1
        tokensThisSession += record.tokens
        guard force || Date().timeIntervalSince(lastProgress) >= 0.25 else { return }
        lastProgress = Date()
        let elapsed = Date().timeIntervalSince(started)
        let perStep = elapsed / Double(stepsThisSession)
        let eta = perStep * Double(totalSteps - record.step)
        let line = String(format: "step %d/%d  loss %.4f  lr %.3g  grad-norm %.3g  %.0f tokens/s  ETA %@",
                          record.step, totalSteps, record.loss, record.learningRate, record.gradientNorm,
                          Double(tokensThisSession) / max(elapsed, 1e-9), Self.duration(eta))
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The loss against the step over the whole history (also the steps before a resume).
    public func writeChart(_ history: [StepRecord]) throws {
        var chart = LineChart(title: "Training loss", series: [(name: "loss", points: history.map { (x: Double($0.step), y: $0.loss) })])
        chart.xLabel = "optimizer step"
        chart.yLabel = "loss"
        chart.yRange = nil
        try chart.render().write(to: chartURL)
    }

    static func append(_ record: StepRecord, to url: URL) throws {
        try OutputFile.append(line(record), to: url.path)
    }

    /// One record as a JSON line (sorted keys), with its newline.
    static func line(_ record: StepRecord) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(record)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
