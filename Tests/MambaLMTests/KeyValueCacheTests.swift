import XCTest
@testable import MambaLM
import TensorCore

/// The key/value cache: per-head layout, growth in blocks, value semantics.
final class KeyValueCacheTests: XCTestCase {
    func testAppendsPerHeadAndGrowsInBlocks() {
        var cache = KeyValueCache(heads: 2, headDimension: 3)
        var expectedKeys: [[Float]] = [[], []]
        for step in 0..<1000 {
            // T = 1 or 3 rows, [T, G·P]: head g's keys are columns 3g..<3g + 3.
            let t = step % 2 == 0 ? 1 : 3
            let keys = Tensor(shape: [t, 6], data: (0..<(6 * t)).map { Float(step * 100 + $0) })
            cache.append(keys: keys, values: keys.reshaped([t, 6]))
            for row in 0..<t { for g in 0..<2 { expectedKeys[g] += keys.data[(row * 6 + g * 3)..<(row * 6 + g * 3 + 3)] } }
            let room = cache.keys[0].capacity / 3
            XCTAssertLessThanOrEqual(room, max(cache.count * 5 / 4, cache.count) + KeyValueCache.blockSize, "step \(step)")
        }
        XCTAssertEqual(cache.count, 2000)
        XCTAssertEqual(cache.keys, expectedKeys)
        XCTAssertEqual(cache.values, expectedKeys)
        XCTAssertEqual(cache.bytes, 2 * 2 * 2000 * 3 * 4)
        var fork = cache
        fork.append(keys: Tensor(zeros: [1, 6]), values: Tensor(zeros: [1, 6]))
        XCTAssertEqual(cache.count, 2000, "a copy forks: the original is untouched")
        XCTAssertNotEqual(fork, cache)
    }
}
