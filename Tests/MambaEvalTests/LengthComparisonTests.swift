import XCTest
@testable import MambaEval

/// Score-by-length bins: each prediction in the smallest bin ≥ its length, 100 × the mean per bin and run.
final class LengthComparisonTests: XCTestCase {
    func record(_ pred: String, _ answer: String, length: Int?) -> PredictionRecord {
        PredictionRecord(dataset: "passkey", pred: pred, answers: [answer], allClasses: nil, length: length, id: "x")
    }

    func testBinsAndMeans() throws {
        let a = LengthComparison.Run(name: "a", records: [
            record(" 12345", "12345", length: 900), record(" 999", "12345", length: 1024),   // bin 1024: 50
            record("12345.", "12345", length: 1025),                                           // bin 2048: 100
        ])
        let b = LengthComparison.Run(name: "b", records: [record("no", "12345", length: 10)])
        let c = try LengthComparison([a, b], bins: [2048, 1024, 4096])
        XCTAssertEqual(c.bins, [1024, 2048, 4096])
        XCTAssertEqual(c.table[0].cells.map(\.score), [50, 100, nil])
        XCTAssertEqual(c.table[0].cells.map(\.samples), [2, 1, 0])
        XCTAssertEqual(c.table[1].cells.map(\.score), [0, nil, nil])
        XCTAssertTrue(c.markdown.contains("| 1024 | 50.0 (2) | 0.0 (1) |"), c.markdown)
        XCTAssertTrue(c.markdown.contains("| 4096 | – (0) | – (0) |"), c.markdown)
        XCTAssertEqual(c.chart(title: "t").series.map { $0.points.count }, [2, 1])
    }

    func testAPredictionWithoutALengthOrBeyondTheBinsIsAnError() {
        XCTAssertThrowsError(try LengthComparison([.init(name: "a", records: [record("", "1", length: nil)])], bins: [10])) {
            XCTAssertTrue("\($0)".contains("no \"length\""), "\($0)")
        }
        XCTAssertThrowsError(try LengthComparison([.init(name: "a", records: [record("", "1", length: 11)])], bins: [10])) {
            XCTAssertTrue("\($0)".contains("largest bin (10)"), "\($0)")
        }
    }
}
