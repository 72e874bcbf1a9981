#if arch(x86_64) && (REMAMBA_AVX512_VNNI || REMAMBA_AVX2)
import _Builtin_intrinsics.intel
#endif

/// Q8_0 weights times Q8_0 activations, as llama.cpp multiplies them: each block of 32 of an x row is quantized
/// like a weight block (d = max|x| / 127, q = round(x / d)), so a block's products are a sum of int8 · int8
/// products — an exact integer — times d_w · d_x. A 64-byte chunk is two blocks; lane i of its sums holds bytes
/// 4i … 4i+3, so lanes 0–7 are the first block and 8–15 the second. The integer sums come from the CPU's int8
/// dot-product instructions where the build has them (Package.swift: AVX-512 VNNI, AVX2) and from a Swift
/// loop otherwise; being exact integers they are the same everywhere, and so is every Float32 step after them.
enum Q8Chunks: StoredChunks {
    struct Row { let values: UnsafeRawPointer; let scales: UnsafePointer<Float> }
    static func row(_ w: StoredValues, _ row: Int, scratch: UnsafeMutablePointer<Float>?) -> Row {
        let blocks = w.columns / WeightType.blockSize
        HalfConversion.convert(UnsafeRawPointer(w.scales! + row * blocks), count: blocks, into: scratch!)
        return Row(values: w.values + row * w.columns, scales: scratch!)
    }

    @inline(__always)
    static func load(_ row: Row, chunk c: Int) -> Q8Dot.Weights { Q8Dot.Weights(row.values + 64 * c) }

    @inline(__always)
    static func scale(_ row: Row, chunk c: Int) -> Float32x16 {
        Float32x16(lowHalf: SIMD8(repeating: row.scales[2 * c]), highHalf: SIMD8(repeating: row.scales[2 * c + 1]))
    }

    /// acc += Float(Σ of each lane's four int8 products) · (d_w · d_x).
    @inline(__always)
    static func accumulate(_ acc: inout Float32x16, _ w: Q8Dot.Weights, _ scale: Float32x16, _ x: Q8Activations, row b: Int, chunk c: Int) {
        let sums = Q8Dot.laneSums(w, x.values + b * x.columns + 64 * c, bias: x.bias + b * x.chunks + c)
        acc.addProduct(Q8Dot.floats(sums), scale * x.chunkScales[b * x.chunks + c])
    }

    /// A last block of 32 (columns an odd number of blocks): its integer sum, times d_w · d_x.
    @inline(__always)
    static func tail(_ w: StoredValues, _ row: Int, _ base: Row, _ x: Q8Activations, row b: Int, from first: Int) -> Float {
        if first == w.columns { return 0 }
        let q = base.values.assumingMemoryBound(to: Int8.self) + first, xq = x.values + b * x.columns + first
        var s: Int32 = 0
        for i in 0..<WeightType.blockSize { s &+= Int32(q[i]) &* Int32(xq[i]) }
        let block = first / WeightType.blockSize
        return Float(s) * (base.scales[block] * x.blockScales[b * x.columns / WeightType.blockSize + block])
    }
}

/// Rows of x quantized per block of 32 for `Q8Chunks` (columns a multiple of 32).
struct Q8Activations {
    let columns: Int, chunks: Int
    /// [B, K] int8.
    let values: UnsafePointer<Int8>
    /// [B, K / 32] the blocks' d.
    let blockScales: UnsafePointer<Float>
    /// [B, K / 64] each full chunk's two d as `Q8Chunks.scale` lays out a W chunk's.
    let chunkScales: UnsafePointer<Float32x16>
    /// [B, K / 64] per lane −128 · Σ of its four bytes (what `Q8Dot.laneSums` needs on AVX-512 VNNI).
    let bias: UnsafePointer<SIMD16<Int32>>

    /// `body` gets x [rows, columns] (row t at x + t · stride) quantized; the buffers live for the call.
    static func quantizing<R>(_ x: UnsafePointer<Float>, rows: Int, columns k: Int, stride: Int, _ body: (Q8Activations) -> R) -> R {
        precondition(k % WeightType.blockSize == 0, "Q8Activations: \(k) columns is not a whole number of blocks of 32")
        let blocks = k / WeightType.blockSize, chunks = k / 64
        let values = UnsafeMutablePointer<Int8>.allocate(capacity: max(rows * k, 1))
        let blockScales = UnsafeMutablePointer<Float>.allocate(capacity: max(rows * blocks, 1))
        let chunkScales = UnsafeMutablePointer<Float32x16>.allocate(capacity: max(rows * chunks, 1))
        let bias = UnsafeMutablePointer<SIMD16<Int32>>.allocate(capacity: max(rows * chunks, 1))
        defer { values.deallocate(); blockScales.deallocate(); chunkScales.deallocate(); bias.deallocate() }
        for t in 0..<rows {
            for block in 0..<blocks {
                let first = block * WeightType.blockSize
                blockScales[t * blocks + block] = WeightEncoding.quantizeBlock(x + t * stride + first, into: values + t * k + first)
            }
            for c in 0..<chunks {
                let d = blockScales + t * blocks + 2 * c
                chunkScales[t * chunks + c] = Float32x16(lowHalf: SIMD8(repeating: d[0]), highHalf: SIMD8(repeating: d[1]))
                let q = values + t * k + 64 * c
                var lanes = SIMD16<Int32>()
                for lane in 0..<16 { for j in 0..<4 { lanes[lane] &+= Int32(q[4 * lane + j]) } }
                bias[t * chunks + c] = lanes &* -128
            }
        }
        return body(Q8Activations(columns: k, chunks: chunks, values: values, blockScales: blockScales, chunkScales: chunkScales,
                                  bias: bias))
    }

    /// x [rows, columns] → x̂ = d · q per block, the values `Q8Chunks` multiplies (the prefill path's sgemm takes
    /// them, so that a prompt and a decode step multiply the same activations). Row t of `out` at out + t · columns.
    static func roundTrip(_ x: UnsafePointer<Float>, rows: Int, columns k: Int, stride lda: Int, into out: UnsafeMutablePointer<Float>) {
        for t in 0..<rows {
            for first in stride(from: 0, to: k, by: WeightType.blockSize) {
                let (d, low, high) = WeightEncoding.roundedBlock(x + t * lda + first)
                let o = UnsafeMutableRawPointer(out + t * k + first)
                o.storeBytes(of: d * low, as: Float32x16.self)
                o.storeBytes(of: d * high, toByteOffset: 64, as: Float32x16.self)
            }
        }
    }
}

/// The 16 lane sums of a 64-byte chunk of int8 weights times 64 int8 activations: lane i = Σ_{j<4} w[4i+j] · x[4i+j].
enum Q8Dot {
    #if arch(x86_64) && REMAMBA_AVX512_VNNI
    /// vpdpbusd multiplies unsigned by signed bytes: w + 128 (XOR 0x80) by x, started from −128 · Σx (`bias`).
    struct Weights {
        let biased: SIMD8<Int64>
        @inline(__always) init(_ p: UnsafeRawPointer) { biased = _mm512_xor_si512(_mm512_loadu_si512(p), _mm512_set1_epi8(-128)) }
    }

    @inline(__always)
    static func laneSums(_ w: Weights, _ x: UnsafePointer<Int8>, bias: UnsafePointer<SIMD16<Int32>>) -> SIMD16<Int32> {
        let start = UnsafeRawPointer(bias).load(as: SIMD8<Int64>.self)
        return unsafeBitCast(_mm512_dpbusd_epi32(start, w.biased, _mm512_loadu_si512(x)), to: SIMD16<Int32>.self)
    }

    @inline(__always)
    static func floats(_ s: SIMD16<Int32>) -> Float32x16 { _mm512_cvtepi32_ps(unsafeBitCast(s, to: SIMD8<Int64>.self)) }
    #elseif arch(x86_64) && REMAMBA_AVX2
    /// vpmaddubsw multiplies unsigned by signed bytes: |w| by x with w's sign (llama.cpp's trick), then
    /// vpmaddwd adds the pairs; no bias needed. Each 32-byte half: |w|, w.
    struct Weights {
        let low: (SIMD4<Int64>, SIMD4<Int64>), high: (SIMD4<Int64>, SIMD4<Int64>)
        @inline(__always) init(_ p: UnsafeRawPointer) {
            let a = _mm256_loadu_si256(p.assumingMemoryBound(to: SIMD4<Int64>.self))
            let b = _mm256_loadu_si256((p + 32).assumingMemoryBound(to: SIMD4<Int64>.self))
            low = (_mm256_abs_epi8(a), a)
            high = (_mm256_abs_epi8(b), b)
        }
    }

    @inline(__always)
    static func laneSums(_ w: Weights, _ x: UnsafePointer<Int8>, bias: UnsafePointer<SIMD16<Int32>>) -> SIMD16<Int32> {
        @inline(__always) func half(_ w: (SIMD4<Int64>, SIMD4<Int64>), _ p: UnsafePointer<Int8>) -> SIMD8<Int32> {
            let xs = _mm256_sign_epi8(_mm256_loadu_si256(UnsafeRawPointer(p).assumingMemoryBound(to: SIMD4<Int64>.self)), w.1)
            let pairs = _mm256_maddubs_epi16(w.0, xs)
            return unsafeBitCast(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)), to: SIMD8<Int32>.self)
        }
        return SIMD16(lowHalf: half(w.low, x), highHalf: half(w.high, x + 32))
    }

    @inline(__always)
    static func floats(_ s: SIMD16<Int32>) -> Float32x16 {
        Float32x16(lowHalf: _mm256_cvtepi32_ps(unsafeBitCast(s.lowHalf, to: SIMD4<Int64>.self)),
                   highHalf: _mm256_cvtepi32_ps(unsafeBitCast(s.highHalf, to: SIMD4<Int64>.self)))
    }
    #else
    struct Weights {
        let bytes: SIMD64<Int8>
        @inline(__always) init(_ p: UnsafeRawPointer) { bytes = p.loadUnaligned(as: SIMD64<Int8>.self) }
    }

    @inline(__always)
    static func laneSums(_ w: Weights, _ x: UnsafePointer<Int8>, bias: UnsafePointer<SIMD16<Int32>>) -> SIMD16<Int32> {
        withUnsafeBytes(of: w.bytes) { portableLaneSums($0.baseAddress!.assumingMemoryBound(to: Int8.self), x) }
    }

    @inline(__always)
    static func floats(_ s: SIMD16<Int32>) -> Float32x16 {
        var v = Float32x16()
        for i in 0..<16 { v[i] = Float(s[i]) }
        return v
    }
    #endif

    /// The slow twin of `laneSums`, compiled everywhere: the tests hold the instructions to it.
    static func portableLaneSums(_ w: UnsafePointer<Int8>, _ x: UnsafePointer<Int8>) -> SIMD16<Int32> {
        var s = SIMD16<Int32>()
        for lane in 0..<16 { for j in 0..<4 { s[lane] &+= Int32(w[4 * lane + j]) &* Int32(x[4 * lane + j]) } }
        return s
    }
}
