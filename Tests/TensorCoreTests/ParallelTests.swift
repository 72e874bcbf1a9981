import XCTest
import TensorCore
import TestSupport

/// Parallel.forEachRange: disjoint ranges that cover 0..<count, aligned to the granularity.
final class ParallelTests: XCTestCase {
    func testRangesCoverExactlyOnce() {
        for threads in [1, 2, 3, 8] {
            for (count, granularity) in [(0, 1), (1, 1), (5, 1), (100, 16), (37, 64), (1000, 64)] {
                let lock = NSLock()
                var ranges: [Range<Int>] = []
                withThreads(threads) {
                    Parallel.forEachRange(count, granularity: granularity) { r in lock.lock(); ranges.append(r); lock.unlock() }
                }
                ranges.sort { $0.lowerBound < $1.lowerBound }
                XCTAssertEqual(ranges.flatMap { Array($0) }, Array(0..<count), "threads \(threads), count \(count)")
                XCTAssertLessThanOrEqual(ranges.count, max(threads, 1))
                for r in ranges.dropLast() { XCTAssertEqual(r.upperBound % granularity, 0, "range \(r) not aligned") }
            }
        }
    }
}
