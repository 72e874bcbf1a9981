import Foundation
import XCTest
import Plots
@testable import MambaEval

/// Formats, configuration and refusals: LongBench jsonl and templates, the score output shape, bad input.
final class FormatTests: XCTestCase {
    func testLongBenchTemplatesAndRules() throws {
        XCTAssertEqual(LongBenchPrompts.templates.count, 21)
        XCTAssertEqual(Set(LongBenchPrompts.templates.keys), Set(LongBenchPrompts.maxNewTokens.keys))
        let lcc = try LongBenchDataset("lcc_e")
        XCTAssertEqual(lcc.name, "lcc")
        XCTAssertEqual(LongBenchPrompts.fill(lcc.promptTemplate, context: "x = {1}\n", input: ""), "Please complete the code given below. \nx = {1}\nNext line of code:\n")
        XCTAssertEqual(try LongBenchDataset("gov_report").maxNewTokens, 512)
        XCTAssertEqual(try LongBenchDataset("samsum").stopsAtNewline, true)
        XCTAssertEqual(try LongBenchDataset("samsum").sampleScore(prediction: "\n\nA B\nC D", answers: ["A B"], allClasses: []), RougeL.score("A B", "A B"))
        // jieba-scored datasets are refused; lsht and passage_retrieval_zh need no segmentation and run.
        XCTAssertThrowsError(try LongBenchDataset("dureader")) { XCTAssertTrue("\($0)".contains("jieba")) }
        XCTAssertNoThrow(try LongBenchDataset("lsht"))
        XCTAssertThrowsError(try EvalTaskName("nosuchtask")) { XCTAssertTrue("\($0)".contains("unknown task \"nosuchtask\"")) }
        XCTAssertEqual(try EvalTaskName("hotpotqa_e"), .longBench("hotpotqa_e"))
        XCTAssertEqual(try EvalTaskName("sci_fi"), .lEval(.sciFi))
    }

    func testLongBenchLineAndBadLines() throws {
        let good = #"{"input": "q", "context": "c", "answers": ["a"], "length": 12, "dataset": "hotpotqa", "language": "en", "all_classes": null, "_id": "x1"}"#
        let lines = try JSONLines.decode(LongBenchSample.self, data: Data((good + "\n\n" + good + "\n").utf8), path: "f.jsonl")
        XCTAssertEqual(lines.map(\.line), [1, 3])
        XCTAssertEqual(lines[0].value.id, "x1")
        XCTAssertThrowsError(try JSONLines.decode(LongBenchSample.self, data: Data((good + "\n{\"input\": 3}\n").utf8), path: "f.jsonl")) {
            XCTAssertTrue("\($0)".hasPrefix("f.jsonl:2: "), "\($0)")
        }
        XCTAssertThrowsError(try JSONLines.decode(LongBenchSample.self, data: Data("not json\n".utf8), path: "f.jsonl")) {
            XCTAssertEqual("\($0)", "f.jsonl:1: not valid JSON")
        }
    }

    func testScoreOutputShape() throws {
        let records = [
            PredictionRecord(dataset: "hotpotqa", pred: "Paris", answers: ["Paris"], allClasses: nil, length: 100, id: nil),
            PredictionRecord(dataset: "hotpotqa", pred: "London", answers: ["Paris"], allClasses: nil, length: 5000, id: nil),
            PredictionRecord(dataset: "passage_count", pred: "3", answers: ["3"], allClasses: nil, length: 9000, id: nil),
        ]
        XCTAssertEqual(PredictionScoring.json(try PredictionScoring.score(records, byLength: false)),
                       "{\n    \"hotpotqa\": 50.0,\n    \"passage_count\": 100.0\n}")
        XCTAssertEqual(PredictionScoring.json(try PredictionScoring.score(records, byLength: true)),
                       "{\n    \"hotpotqa\": {\n        \"0-4k\": 100.0,\n        \"4-8k\": 0.0,\n        \"8k+\": NaN\n    },\n    \"passage_count\": {\n        \"0-4k\": NaN,\n        \"4-8k\": NaN,\n        \"8k+\": 100.0\n    }\n}")
    }

    func testSVGPlots() throws {
        let chart = LineChart(title: "t", series: [(name: "a", points: [(x: 2000, y: 10), (x: 4000, y: 30)])]).render().text
        XCTAssertTrue(chart.hasPrefix("<svg") && chart.contains("<polyline"))
        let map = HeatMap(title: "h", lengths: [1024, 2048], depths: [0, 0.5, 1]) { l, d in l == 1024 && d == 1 ? nil : 50 }.render().text
        XCTAssertEqual(map.components(separatedBy: "<rect").count - 1, 1 + 6, "background + one cell per (length, depth)")
        XCTAssertTrue(map.contains("#eeeeee"), "the empty cell is grey")
    }
}
