import XCTest
@testable import TensorCore
import TestSupport

/// Stored weights (F32, F16, BF16, Q8_0): their encodings, and `Linear` over them — the streaming
/// kernel (≤ 8 rows) and the panel-decoding sgemm path — against the three-loop Double twin run on the
/// same decoded values.
final class WeightTests: XCTestCase {
    // The twin multiplies the very values the kernel decodes, so only Float32 summation order differs:
    // as LinearTests, 1e-5 of the largest output (K ≤ 800 products of N(0,1) values).
    static let tolerance: Float = 1e-5

    func testF16AndBF16RoundToNearestEven() {
        let values: [Float] = [1, -2.5, 1 + 1.0 / 256, 1 + 3.0 / 256, 65504, 1e-8, 3.14159, .infinity]
        let t = Tensor(shape: [values.count], data: values)
        let f16 = Weight(t, as: .f16).tensor(), bf16 = Weight(t, as: .bf16).tensor()
        for (i, v) in values.enumerated() {
            XCTAssertEqual(f16.data[i], Float(Float16(v)), "F16 of \(v)")
        }
        // bfloat16 keeps 8 significant bits: 1 + 1/256 is a tie and goes to the even 1; 1 + 3/256 to 1 + 4/256.
        XCTAssertEqual(bf16.data[2], 1)
        XCTAssertEqual(bf16.data[3], 1 + 4.0 / 256)
        XCTAssertEqual(bf16.data[0], 1)
        XCTAssertEqual(bf16.data[1], -2.5)
        XCTAssertEqual(bf16.data[7], .infinity)
        XCTAssertEqual(Float(bitPattern: UInt32(WeightEncoding.bfloat16Bits(.nan)) << 16).isNaN, true)
    }

    func testQ8BlocksKeepEveryValueWithinHalfAStep() {
        let t = TestInputs.normal([3, 96], seed: 1)
        let q = Weight(t, as: .q8_0)
        XCTAssertEqual(q.storedBytes, 3 * 96 + 3 * 3 * 2)
        let back = q.tensor()
        for row in 0..<3 {
            for block in 0..<3 {
                let range = (row * 96 + block * 32)..<(row * 96 + block * 32 + 32)
                let largest = range.map { abs(t.data[$0]) }.max()!
                let step = Float(Float16(largest / 127))
                for i in range { XCTAssertLessThanOrEqual(abs(back.data[i] - t.data[i]), step / 2 + largest * 1e-3, "element \(i)") }
                // The largest element of each block is ±127 steps exactly (up to the Float16 scale's rounding).
                let top = range.max { abs(t.data[$0]) < abs(t.data[$1]) }!
                XCTAssertEqual(abs(back.data[top]), 127 * step, accuracy: 1e-6)
            }
        }
        XCTAssertFalse(WeightType.q8_0.canStore(columns: 48))
        XCTAssertEqual(Weight(Tensor(zeros: [1, 32]), as: .q8_0).tensor().data, [Float](repeating: 0, count: 32))
    }

    /// The int8 dot products of the Q8_0 kernel (AVX-512 VNNI or AVX2 instructions where the build has them)
    /// against the Swift loop they replace: the same integers, for every byte value (−128 … 127 as weights;
    /// activations are quantized to −127 … 127) and 64 random chunks besides.
    func testInt8LaneSumsEqualTheirPortableTwin() {
        var generator = SystemRandomNumberGenerator()
        var cases: [([Int8], [Int8])] = [([Int8](repeating: -128, count: 64), [Int8](repeating: 127, count: 64)),
                                         ([Int8](repeating: -128, count: 64), [Int8](repeating: -127, count: 64)),
                                         ((0..<64).map { Int8(truncatingIfNeeded: $0 * 4 - 128) }, (0..<64).map { Int8($0 * 3 - 95) })]
        for _ in 0..<64 {
            cases.append(((0..<64).map { _ in Int8.random(in: .min ... .max, using: &generator) },
                          (0..<64).map { _ in Int8.random(in: -127 ... 127, using: &generator) }))
        }
        for (w, x) in cases {
            // The bias `Q8Activations` stores for x: −128 · Σ of each lane's four bytes.
            var bias = SIMD16<Int32>()
            for lane in 0..<16 { for j in 0..<4 { bias[lane] &+= -128 &* Int32(x[4 * lane + j]) } }
            let fast = w.withUnsafeBytes { wp in x.withUnsafeBufferPointer { xp in
                withUnsafePointer(to: bias) { Q8Dot.laneSums(Q8Dot.Weights(wp.baseAddress!), xp.baseAddress!, bias: $0) } } }
            let slow = w.withUnsafeBufferPointer { wp in x.withUnsafeBufferPointer { Q8Dot.portableLaneSums(wp.baseAddress!, $0.baseAddress!) } }
            XCTAssertEqual(fast, slow, "w \(w.prefix(8))…, x \(x.prefix(8))…")
            XCTAssertEqual(Q8Dot.floats(slow), Float32x16((0..<16).map { Float(slow[$0]) }))
        }
    }

    /// Q8_0 activations: each block's values are d · q with q = round(x / d), |q| ≤ 127, the largest ±127 —
    /// the same rounding as a weight block; x̂ (the prefill path's) is exactly d · q.
    func testQ8ActivationsAreQuantizedLikeWeightBlocks() {
        let x = TestInputs.normal([3, 96], seed: 11)
        let weight = Weight(x, as: .q8_0).tensor()
        var roundTrip = [Float](repeating: 0, count: x.count)
        x.data.withUnsafeBufferPointer { xp in
            roundTrip.withUnsafeMutableBufferPointer { Q8Activations.roundTrip(xp.baseAddress!, rows: 3, columns: 96, stride: 96, into: $0.baseAddress!) }
            Q8Activations.quantizing(xp.baseAddress!, rows: 3, columns: 96, stride: 96) { q in
                for i in 0..<x.count {
                    let d = q.blockScales[i / 32]
                    XCTAssertEqual(roundTrip[i], d * Float(q.values[i]), "x̂[\(i)]")
                    // The weight stores d as Float16; the activation keeps it Float32: q is the same.
                    XCTAssertEqual(abs(weight.data[i] - roundTrip[i]), 0, accuracy: 1e-3 * d * 127, "block \(i / 32)")
                }
                XCTAssertEqual(q.chunkScales[0], Float32x16(lowHalf: SIMD8(repeating: q.blockScales[0]), highHalf: SIMD8(repeating: q.blockScales[1])))
            }
        }
    }

    func testLinearOverEveryTypeAgreesWithReference() {
        let bias = TestInputs.normal([61], seed: 2)
        for columns in [32, 48, 64, 96, 288, 768] {
            let w = TestInputs.normal([61, columns], seed: UInt64(columns))
            for type in WeightType.allCases where type.canStore(columns: columns) {
                let weight = Weight(w, as: type)
                for rows in [1, 2, 3, 4, 5, 8, 9, 33] {
                    let x = TestInputs.normal([rows, columns], seed: UInt64(rows * 1000 + columns))
                    for b in [nil, bias] {
                        assertAgree(Linear.forward(x, weight: weight, bias: b), Linear.reference(x, weight: weight, bias: b),
                                    relativeTolerance: Self.tolerance, "Linear \(type) [\(rows), \(columns)] bias=\(b != nil)")
                    }
                }
            }
        }
    }

    /// More weight rows than one decoded panel (128), split across workers: the prefill path.
    func testPanelsOfEveryTypeAgreeWithReference() {
        let w = TestInputs.normal([300, 96], seed: 6), x = TestInputs.normal([20, 96], seed: 7)
        for type in WeightType.allCases {
            let weight = Weight(w, as: type)
            assertAgree(Linear.forward(x, weight: weight), Linear.reference(x, weight: weight),
                        relativeTolerance: Self.tolerance, "Linear panels \(type) [20, 96] × [300, 96]ᵀ")
        }
    }

    /// A batch through the streaming kernel (tiles of 4 W rows × 4 x rows, the rest one row at a time) gives
    /// each x row exactly what it gives alone: the batched decode step's bit-for-bit promise. 61 W rows end in a
    /// short tile; 96 and 288 columns end in a tail, 768 do not.
    func testStreamedBatchRowsEqualSingleRowsBitForBit() {
        for columns in [96, 288, 768] {
            let w = TestInputs.normal([61, columns], seed: UInt64(columns) + 7)
            let x = TestInputs.normal([Linear.streamingRows, columns], seed: UInt64(columns) + 8)
            for type in WeightType.allCases where type.canStore(columns: columns) {
                let weight = Weight(w, as: type)
                let alone = (0..<x.rows).map { Linear.forward(x.rows($0..<($0 + 1)), weight: weight) }
                for batch in [2, 4, 5, 7, 8, 13, Linear.streamingRows] {
                    let together = Linear.forward(x.rows(0..<batch), weight: weight)
                    for b in 0..<batch {
                        assertIdentical(together.rows(b..<(b + 1)), alone[b], "\(type) [\(batch), \(columns)] row \(b)")
                    }
                }
            }
        }
    }

    /// One thread and several: the same rows, the same arithmetic.
    func testStreamingIsIndependentOfThreadCount() {
        let w = Weight(TestInputs.normal([4096, 256], seed: 3), as: .q8_0)
        let x = TestInputs.normal([3, 256], seed: 4)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = Linear.forward(x, weight: w)
        Parallel.threads = 3
        assertIdentical(Linear.forward(x, weight: w), one, "streaming, 1 vs 3 threads")
    }

    func testFloat32WeightSharesTheTensor() {
        let t = TestInputs.normal([5, 7], seed: 5)
        let w = Weight(t)
        XCTAssertEqual(w.type, .f32)
        XCTAssertEqual(w.tensor(), t)
        XCTAssertEqual(w.storedBytes, 4 * 35)
        XCTAssertEqual(Weight(t, as: .bf16).converted(to: .f32).type, .f32)
    }
}
