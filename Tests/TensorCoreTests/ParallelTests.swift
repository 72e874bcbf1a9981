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

/// The persistent team under the regions: nested regions (Dispatch takes them), regions opened from
/// several threads at once (one gets the team, the others Dispatch), and many short regions in a row
/// (the sleeping/waking and late-claim paths) each cover their range exactly once.
final class WorkerTeamTests: XCTestCase {
    func testNestedAndConcurrentRegionsCoverExactlyOnce() {
        let counts = Counts(4 * 64)
        withThreads(2) {
            DispatchQueue.concurrentPerform(iterations: 4) { caller in
                for _ in 0..<200 {
                    Parallel.forEachRange(8) { outer in
                        for i in outer {
                            Parallel.forEachRange(8) { inner in
                                for j in inner { counts.add(caller * 64 + i * 8 + j) }
                            }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(counts.values, Array(repeating: 200, count: 4 * 64))
    }

    func testRegionsAfterTheTeamSleeps() {
        var total = 0
        let lock = NSLock()
        withThreads(2) {
            for round in 0..<3 {
                for _ in 0..<1000 { Parallel.forEachRange(2) { r in lock.lock(); total += r.count; lock.unlock() } }
                if round < 2 { usleep(2_000) }  // longer than the team's spin: its threads go to sleep
            }
        }
        XCTAssertEqual(total, 6000)
    }
}

/// Per-slot counters shared by the threads of a test.
final class Counts: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Int]
    init(_ n: Int) { slots = Array(repeating: 0, count: n) }
    func add(_ i: Int) { lock.lock(); slots[i] += 1; lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return slots }
}
