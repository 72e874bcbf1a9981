import Foundation
import XCTest
@testable import MambaEval

/// Every metric against the Python references of scripts/fixtures/metrics.py (rouge 1.0.1, fuzzywuzzy 0.18 on
/// difflib, LongBench's metrics.py and L-Eval's em.py/auto_eval.py semantics), ≥ 500 pairs each.
final class MetricsTests: XCTestCase {
    static let tolerance = 1e-6
    nonisolated(unsafe) static var loaded: [String: Any]?

    func cases(_ name: String) throws -> [[String: Any]] {
        if Self.loaded == nil {
            let data = try Data(contentsOf: EvalFixtures.metrics.appendingPathComponent("cases.json"))
            Self.loaded = try JSONSerialization.jsonObject(with: data, options: [.allowFragments]) as? [String: Any]
        }
        return try XCTUnwrap(Self.loaded?[name] as? [[String: Any]], "no cases \(name)")
    }

    /// Compares `metric` with the reference on every case; prints the max difference.
    func check(_ name: String, minimum: Int = 500, _ metric: ([String: Any]) throws -> Double) throws {
        let all = try cases(name)
        XCTAssertGreaterThanOrEqual(all.count, minimum, name)
        var worst = 0.0, failures = 0
        for c in all {
            let expected = (c["score"] as! NSNumber).doubleValue
            let got = try metric(c)
            let difference = abs(got - expected)
            worst = max(worst, difference)
            if difference > Self.tolerance {
                failures += 1
                if failures <= 5 { XCTFail("\(name): \(String(reflecting: c["prediction"] ?? "")) vs \(String(reflecting: c["ground_truth"] ?? "")): got \(got), expected \(expected)") }
            }
        }
        print("\(name): \(all.count) pairs, max |Swift − Python| = \(worst) (tolerance \(Self.tolerance))")
    }

    func text(_ c: [String: Any], _ key: String) -> String { c[key] as! String }

    func testQAF1() throws { try check("qa_f1") { TokenF1.qa(text($0, "prediction"), text($0, "ground_truth")) } }

    func testNormalization() throws {
        var mismatches = 0
        for c in try cases("normalize_answer") {
            let t = text(c, "text")
            if !PythonText.equal(AnswerNormalization.normalize(t), text(c, "normalized"))
                || !PythonText.equal(AnswerNormalization.normalize(t, lowercase: false), text(c, "leval")) {
                mismatches += 1
                if mismatches <= 5 { XCTFail("normalize \(String(reflecting: t)): \(String(reflecting: AnswerNormalization.normalize(t))) vs \(String(reflecting: text(c, "normalized")))") }
            }
        }
        print("normalize_answer: \(mismatches) mismatches (exact string equality)")
    }

    func testRougeL() throws { try check("rouge_l") { RougeL.score(text($0, "prediction"), text($0, "ground_truth")) } }

    func testCodeSimilarity() throws {
        try check("code_sim") { LongBenchScores.codeSimilarity(text($0, "prediction"), text($0, "ground_truth")) }
        var worst = 0
        for c in try cases("code_sim") {
            worst = max(worst, abs(FuzzRatio.ratio(text(c, "prediction"), text(c, "ground_truth")) - (c["fuzz_ratio"] as! Int)))
        }
        XCTAssertEqual(worst, 0)
        print("fuzz.ratio: max |Swift − Python| = \(worst) (exact)")
    }

    func testClassification() throws {
        try check("classification") {
            LongBenchScores.classification(text($0, "prediction"), text($0, "ground_truth"), allClasses: $0["all_classes"] as! [String])
        }
    }

    func testCount() throws { try check("count") { LongBenchScores.count(text($0, "prediction"), text($0, "ground_truth")) } }

    func testRetrieval() throws {
        try check("retrieval") { try LongBenchScores.retrieval(text($0, "prediction"), text($0, "ground_truth")) }
        try check("retrieval_zh") { try LongBenchScores.retrieval(text($0, "prediction"), text($0, "ground_truth"), prefix: "段落") }
        XCTAssertThrowsError(try LongBenchScores.retrieval("1", "no paragraph here"))
    }

    func testLEvalMultipleChoice() throws {
        try check("leval_mc") { c in
            let p = LEvalExam.processOutputMultipleChoice(text(c, "prediction"), coursera: c["coursera"] as! Bool)
            let g = LEvalExam.processGroundTruthMultipleChoice(text(c, "ground_truth"))
            XCTAssertEqual(p, text(c, "processed_prediction"), "\(String(reflecting: text(c, "prediction")))")
            XCTAssertEqual(g, text(c, "processed_ground_truth"))
            return LEvalExam.exactMatch(p, g)
        }
    }

    func testLEvalMath() throws {
        try check("leval_math") { c in
            let p = LEvalExam.processMath(text(c, "prediction")), g = LEvalExam.processMath(text(c, "ground_truth"))
            XCTAssertEqual(p, text(c, "processed_prediction"), "\(String(reflecting: text(c, "prediction")))")
            XCTAssertEqual(g, text(c, "processed_ground_truth"))
            return LEvalExam.exactMatch(p, g)
        }
    }

    func testLEvalCode() throws {
        try check("leval_code") { c in
            let p = LEvalExam.processOutputCode(text(c, "prediction"), groundTruth: text(c, "ground_truth"))
            let g = LEvalExam.processGroundTruthCode(text(c, "ground_truth"))
            XCTAssertEqual(p, text(c, "processed_prediction"), "\(String(reflecting: text(c, "prediction")))")
            XCTAssertEqual(g, text(c, "processed_ground_truth"))
            return LEvalExam.exactMatch(p, g)
        }
    }

    func testLEvalExactMatch() throws {
        try check("leval_exact_match") { LEvalExam.exactMatch(text($0, "prediction"), text($0, "ground_truth")) }
    }

    func testPythonFloat() throws {
        for c in try cases("python_float") {
            let got = PythonText.parseFloat(text(c, "text"))
            if let expected = c["value"] as? String {
                let rendered = got.map { $0.isNaN ? "nan" : $0 == .infinity ? "inf" : $0 == -.infinity ? "-inf" : "\($0)" }
                XCTAssertEqual(rendered, expected, "float(\(String(reflecting: text(c, "text"))))")
            } else {
                XCTAssertNil(got, "float(\(String(reflecting: text(c, "text")))) should raise")
            }
        }
    }

    /// Whole predictions files through `remamba eval score`'s code path against eval.py's scorer and scorer_e.
    func testScorer() throws {
        var worst = 0.0
        for c in try cases("scorer") {
            let lines = c["lines"] as! [[String: Any]]
            let data = try lines.map { try JSONSerialization.data(withJSONObject: $0) }
            let records = try data.map { try JSONDecoder().decode(PredictionRecord.self, from: $0) }
            guard case .single(let score) = try PredictionScoring.score(records, byLength: false)[0].1 else { return XCTFail() }
            worst = max(worst, abs(score - (c["score"] as! NSNumber).doubleValue))
            guard case .buckets(let buckets) = try PredictionScoring.score(records, byLength: true)[0].1 else { return XCTFail() }
            let expected = c["score_e"] as! [String: Any]
            for (name, value) in buckets {
                let e = (expected[name] as! NSNumber).doubleValue
                if e.isNaN { XCTAssertTrue(value.isNaN) } else { worst = max(worst, abs(value - e)) }
            }
        }
        XCTAssertLessThanOrEqual(worst, Self.tolerance)
        print("scorer / scorer_e: max |Swift − Python| = \(worst) (tolerance \(Self.tolerance))")
    }
}
