/// Float32 ⇄ stored weight values. Plain loops over raw pointers, which LLVM vectorizes.
enum WeightEncoding {
    /// Rounds `source` into `buffer` as `type`: F16 and BF16 round to nearest even (as PyTorch's
    /// `.half()`, `.bfloat16()`); Q8_0 takes per block of 32 the scale d = max|x| / 127 and q = round(x / d)
    /// (llama.cpp's `quantize_row_q8_0`), storing d as Float16.
    static func encode(_ source: UnsafeBufferPointer<Float>, type: WeightType, into buffer: OwnedWeightBuffer) {
        let n = source.count
        guard let x = source.baseAddress else { return }
        switch type {
        case .f32:
            buffer.values.copyMemory(from: x, byteCount: 4 * n)
        case .f16:
            let out = buffer.values.bindMemory(to: Float16.self, capacity: n)
            for i in 0..<n { out[i] = Float16(x[i]) }
        case .bf16:
            let out = buffer.values.bindMemory(to: UInt16.self, capacity: n)
            for i in 0..<n { out[i] = bfloat16Bits(x[i]) }
        case .q8_0:
            let q = buffer.values.bindMemory(to: Int8.self, capacity: n)
            let scales = buffer.scales!
            for block in 0..<(n / WeightType.blockSize) {
                let first = block * WeightType.blockSize
                scales[block] = Float16(quantizeBlock(x + first, into: q + first))
            }
        }
    }

    /// One block of 32 values as Q8_0: returns d = max|x| / 127 and writes q = round(x / d) (llama.cpp's
    /// `quantize_row_q8_0`; weights store d as Float16, activations keep it Float32).
    @inline(__always)
    static func quantizeBlock(_ x: UnsafePointer<Float>, into q: UnsafeMutablePointer<Int8>) -> Float {
        let (d, low, high) = roundedBlock(x)
        for i in 0..<16 { q[i] = Int8(low[i]); q[16 + i] = Int8(high[i]) }
        return d
    }

    /// d and the block's q as (whole) floats, 16 lanes at a time: x · (1 / d) rounded half away from zero.
    @inline(__always)
    static func roundedBlock(_ x: UnsafePointer<Float>) -> (d: Float, low: Float32x16, high: Float32x16) {
        let p = UnsafeRawPointer(x)
        let low = p.loadUnaligned(as: Float32x16.self), high = p.loadUnaligned(fromByteOffset: 64, as: Float32x16.self)
        let d = max(abs(low).max(), abs(high).max()) / 127
        let inverse: Float = d == 0 ? 0 : 1 / d
        return (d, (low * inverse).rounded(.toNearestOrAwayFromZero), (high * inverse).rounded(.toNearestOrAwayFromZero))
    }

    /// The bfloat16 nearest to `x` (ties to even), NaN kept a quiet NaN.
    static func bfloat16Bits(_ x: Float) -> UInt16 {
        if x.isNaN { return 0x7FC0 }
        let bits = x.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    /// Rows `rows` of `weight` as Float32, written contiguously to `out`.
    static func decode(_ weight: StoredValues, rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        decode(weight, elements: (rows.lowerBound * weight.columns)..<(rows.upperBound * weight.columns), into: out)
    }

    /// Elements `elements` (row-major; for Q8_0 whole blocks) as Float32, written contiguously to `out`.
    static func decode(_ weight: StoredValues, elements: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let first = elements.lowerBound, n = elements.count
        switch weight.type {
        case .f32:
            out.update(from: weight.values.assumingMemoryBound(to: Float.self) + first, count: n)
        case .f16:
            HalfConversion.convert(weight.values + 2 * first, count: n, into: out)
        case .bf16:
            let v = weight.values.assumingMemoryBound(to: UInt16.self) + first
            for i in 0..<n { out[i] = Float(bitPattern: UInt32(v[i]) << 16) }
        case .q8_0:
            let q = weight.values.assumingMemoryBound(to: Int8.self) + first
            let scales = weight.scales! + first / WeightType.blockSize
            for block in 0..<(n / WeightType.blockSize) {
                let d = Float(scales[block])
                let o = block * WeightType.blockSize
                for i in o..<(o + WeightType.blockSize) { out[i] = d * Float(q[i]) }
            }
        }
    }
}

/// Float16 → Float32, 16 at a time, as the CPU's half-to-single instruction (vcvtph2ps). Written lane by
/// lane on purpose: the scalar conversion is inlined and the loop vectorized everywhere, while the
/// standard library's generic SIMD conversion stays a call per vector inside a kernel.
@inline(__always)
func widenHalves(_ p: UnsafeRawPointer) -> Float32x16 {
    let h = p.loadUnaligned(as: SIMD16<Float16>.self)
    var v = Float32x16()
    for i in 0..<16 { v[i] = Float(h[i]) }
    return v
}

enum HalfConversion {
    static func convert(_ source: UnsafeRawPointer, count n: Int, into out: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 16 <= n {
            UnsafeMutableRawPointer(out + i).storeBytes(of: widenHalves(source + 2 * i), as: Float32x16.self)
            i += 16
        }
        while i < n { out[i] = Float(source.loadUnaligned(fromByteOffset: 2 * i, as: Float16.self)); i += 1 }
    }
}
