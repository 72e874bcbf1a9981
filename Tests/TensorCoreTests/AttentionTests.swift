import XCTest
@testable import TensorCore

/// The fast attention and rotary kernels against their slow twins (Double loops).
final class AttentionTests: XCTestCase {
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor.randomNormal(shape, std: 1, generator: &g)
    }

    func testCausalAttentionMatchesReference() {
        // (T new rows, first position, H heads, G key/value heads, P head_dim): prefill, chunk after a cache, one step, MHA and MQA.
        for (t, first, h, g, p) in [(7, 0, 4, 2, 8), (33, 20, 6, 3, 16), (1, 70, 8, 1, 8), (5, 3, 2, 2, 4)] {
            let s = first + t
            let queries = random([t, h * p], seed: 1)
            let keys = (0..<g).map { random([s, p], seed: 10 + UInt64($0)).data }
            let values = (0..<g).map { random([s, p], seed: 20 + UInt64($0)).data }
            let fast = CausalAttention.forward(queries: queries, keys: keys, values: values, heads: h, first: first)
            let slow = CausalAttention.reference(queries: queries, keys: keys, values: values, heads: h, first: first)
            XCTAssertLessThanOrEqual(fast.maxAbsDifference(slow), 1e-5, "T \(t) first \(first) H \(h) G \(g) P \(p)")
        }
    }

    func testRotaryEmbeddingMatchesReference() {
        let frequencies: [Float] = (0..<8).map { 1 / Foundation.pow(10000, Float(2 * $0) / 16) }
        var x = random([9, 3 * 16], seed: 3)
        let slow = RotaryEmbedding.reference(x, heads: 3, firstPosition: 4000, inverseFrequencies: frequencies)
        RotaryEmbedding.apply(&x, heads: 3, firstPosition: 4000, inverseFrequencies: frequencies)
        XCTAssertLessThanOrEqual(x.maxAbsDifference(slow), 1e-5)
    }
}
