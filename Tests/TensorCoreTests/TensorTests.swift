import XCTest
import TensorCore

/// The small helpers of Tensor: construction, row views, concatenation, reshape, differences.
final class TensorTests: XCTestCase {
    let m = Tensor(shape: [3, 2], data: [1, 2, 3, 4, 5, 6])

    func testConstructionAndCounts() {
        XCTAssertEqual(Tensor(zeros: [2, 3]).data, [Float](repeating: 0, count: 6))
        XCTAssertEqual(Tensor(shape: [4], repeating: 2.5).data, [2.5, 2.5, 2.5, 2.5])
        XCTAssertEqual(m.count, 6)
        XCTAssertEqual(m.rank, 2)
        XCTAssertEqual(m.rows, 3)
        XCTAssertEqual(m.columns, 2)
        // Leading dimensions fold into rows; a vector is one row.
        let cube = Tensor(zeros: [2, 3, 4])
        XCTAssertEqual(cube.rows, 6)
        XCTAssertEqual(cube.columns, 4)
        XCTAssertEqual(Tensor(zeros: [5]).rows, 1)
        XCTAssertEqual(Tensor(zeros: [0, 7]).rows, 0)
    }

    func testRowsAndRow() {
        XCTAssertEqual(m.rows(1..<3), Tensor(shape: [2, 2], data: [3, 4, 5, 6]))
        XCTAssertEqual(m.rows(0..<0).shape, [0, 2])
        XCTAssertEqual(Array(m.row(2)), [5, 6])
        let cube = Tensor(shape: [2, 1, 2], data: [1, 2, 3, 4])
        XCTAssertEqual(cube.rows(1..<2), Tensor(shape: [1, 1, 2], data: [3, 4]))
    }

    func testConcatenateRowsUndoesRows() {
        XCTAssertEqual(Tensor.concatenateRows([m.rows(0..<1), m.rows(1..<1), m.rows(1..<3)]), m)
        XCTAssertEqual(Tensor.concatenateRows([]).count, 0)
    }

    func testReshapeKeepsDataAndValueSemantics() {
        let r = m.reshaped([2, 3])
        XCTAssertEqual(r.shape, [2, 3])
        XCTAssertEqual(r.data, m.data)
        var copy = m
        copy.data[0] = 100
        XCTAssertEqual(m.data[0], 1, "a copy never aliases the original's storage")
    }

    func testMaxAbsDifference() {
        var other = m
        other.data[3] -= 0.25
        other.data[5] += 0.5
        XCTAssertEqual(m.maxAbsDifference(other), 0.5)
        XCTAssertEqual(m.maxAbsDifference(m), 0)
    }
}
