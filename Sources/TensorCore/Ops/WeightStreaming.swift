/// y[b, o] = Σ_k W[o, k] · x[b, k] for a few rows b of x (decode, batched decode): memory-bound, so W
/// is streamed once, each 64-element chunk of a row decoded in registers from its stored type and
/// multiplied with every x row while it is hot. Output rows are split across the workers.
/// Legend: B batch (rows of x), K columns of W (in), O rows of W (out).
enum WeightStreaming {
    typealias V = Float32x16
    static let chunk = 64

    /// x [B, K] → y [B, O] (overwritten).
    static func multiply(_ w: StoredValues, x: UnsafePointer<Float>, batch: Int, y: UnsafeMutablePointer<Float>) {
        let (o, k) = (w.rows, w.columns)
        // BF16 and Q8_0 chunks come out of their lanes interleaved: x is reordered to match, once per call.
        // F32 and F16 chunks are in natural order, so x is used as it is.
        let interleave = w.type == .bf16 ? 2 : w.type == .q8_0 ? 4 : 1
        let permuted = interleave > 1 ? UnsafeMutablePointer<Float>.allocate(capacity: max(batch * k, 1)) : nil
        defer { permuted?.deallocate() }
        if let permuted { for b in 0..<batch { permuteChunks(x + b * k, count: k, interleave: interleave, into: permuted + b * k) } }
        let io = StreamingPointers(x: permuted.map { UnsafePointer($0) } ?? x, y: y, batch: batch)
        // Small matrices run on one worker: a hand-off costs more than the work.
        let granularity = o * k * w.type.valueSize < 1 << 17 ? o : 16
        Parallel.forEachRange(o, granularity: granularity) { rows in
            // Q8_0 rows' block scales are converted to Float32 into this scratch once per row.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: w.type == .q8_0 ? k / 32 : 0) { scratch in
                switch w.type {
                case .f32: dotRows(Float32Chunks.self, w, io, rows, scratch: scratch.baseAddress)
                case .f16: dotRows(Float16Chunks.self, w, io, rows, scratch: scratch.baseAddress)
                case .bf16: dotRows(BFloat16Chunks.self, w, io, rows, scratch: scratch.baseAddress)
                case .q8_0: dotRows(Q8Chunks.self, w, io, rows, scratch: scratch.baseAddress)
                }
            }
        }
    }

    struct StreamingPointers: @unchecked Sendable {
        let x: UnsafePointer<Float>
        let y: UnsafeMutablePointer<Float>
        let batch: Int
    }

    /// Reorders each full 64-chunk of x the way `Chunks.load` returns a chunk of W (the tail stays in order).
    /// `interleave` elements share a 32-bit lane: BF16 2 (elements 2i, 2i+1 of a 32-element half), Q8_0 4
    /// (elements 4i … 4i+3 of the chunk).
    static func permuteChunks(_ x: UnsafePointer<Float>, count k: Int, interleave: Int, into out: UnsafeMutablePointer<Float>) {
        let full = k / chunk * chunk
        out.update(from: x, count: k)
        let group = 16 * interleave
        for base in stride(from: 0, to: full, by: group) {
            for lane in 0..<16 { for j in 0..<interleave { out[base + j * 16 + lane] = x[base + lane * interleave + j] } }
        }
    }

    /// Rows `rows` of y for every x row: four x rows at a time while the W row is in L1, then one at a time.
    @inline(__always)
    static func dotRows<C: StoredChunks>(_: C.Type, _ w: StoredValues, _ io: StreamingPointers, _ rows: Range<Int>,
                                         scratch: UnsafeMutablePointer<Float>?) {
        let (o, k, batch) = (w.rows, w.columns, io.batch)
        let chunks = k / chunk
        for row in rows {
            let rowBase = C.row(w, row, scratch: scratch)
            var b = 0
            while b + 4 <= batch {
                let x0 = io.x + b * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k
                var a0 = V(), a1 = V(), a2 = V(), a3 = V()
                for c in 0..<chunks {
                    let (w0, w1, w2, w3) = C.load(rowBase, chunk: c)
                    let e = c * chunk
                    let scale = C.scale(rowBase, chunk: c)
                    C.accumulate(&a0, fma4(w0, w1, w2, w3, x0 + e), scale)
                    C.accumulate(&a1, fma4(w0, w1, w2, w3, x1 + e), scale)
                    C.accumulate(&a2, fma4(w0, w1, w2, w3, x2 + e), scale)
                    C.accumulate(&a3, fma4(w0, w1, w2, w3, x3 + e), scale)
                }
                io.y[b * o + row] = treeSum(a0) + tail(w, row, x0, from: chunks * chunk)
                io.y[(b + 1) * o + row] = treeSum(a1) + tail(w, row, x1, from: chunks * chunk)
                io.y[(b + 2) * o + row] = treeSum(a2) + tail(w, row, x2, from: chunks * chunk)
                io.y[(b + 3) * o + row] = treeSum(a3) + tail(w, row, x3, from: chunks * chunk)
                b += 4
            }
            while b < batch {
                // The same arithmetic as a row of a group of four: a batched step equals single steps bit for bit.
                let x0 = io.x + b * k
                var a0 = V()
                for c in 0..<chunks {
                    let (w0, w1, w2, w3) = C.load(rowBase, chunk: c)
                    C.accumulate(&a0, fma4(w0, w1, w2, w3, x0 + c * chunk), C.scale(rowBase, chunk: c))
                }
                io.y[b * o + row] = treeSum(a0) + tail(w, row, x0, from: chunks * chunk)
                b += 1
            }
        }
    }

    @inline(__always)
    static func fma4(_ w0: V, _ w1: V, _ w2: V, _ w3: V, _ x: UnsafePointer<Float>) -> V {
        let p = UnsafeRawPointer(x).assumingMemoryBound(to: V.self)
        var s = w0 * p[0]
        s.addProduct(w1, p[1]); s.addProduct(w2, p[2]); s.addProduct(w3, p[3])
        return s
    }

    /// The columns past the last full chunk (x is in natural order there), 16 at a time: read in place for
    /// Float32, decoded into a stack buffer otherwise (Mamba's dt_proj, whose rows are dt_rank long, is all tail).
    @inline(__always)
    static func tail(_ w: StoredValues, _ row: Int, _ x: UnsafePointer<Float>, from first: Int) -> Float {
        let k = w.columns
        if first == k { return 0 }
        if w.type == .f32 { return dot(w.values.assumingMemoryBound(to: Float.self) + row * k + first, x + first, count: k - first) }
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { buffer in
            WeightEncoding.decode(w, elements: (row * k + first)..<(row * k + k), into: buffer.baseAddress!)
            return dot(buffer.baseAddress!, x + first, count: k - first)
        }
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        var acc = V()
        var i = 0
        while i + 16 <= n {
            acc.addProduct(UnsafeRawPointer(a + i).loadUnaligned(as: V.self), UnsafeRawPointer(b + i).loadUnaligned(as: V.self))
            i += 16
        }
        var s = treeSum(acc)
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }
}

/// Loads 64-element chunks of one stored row as four Float32 vectors, lanes in `permuteChunks`' order.
protocol StoredChunks {
    associatedtype RowBase
    /// Row `row` ready for `load`; `scratch` (`columns` floats) is there for types that convert a whole row first.
    static func row(_ w: StoredValues, _ row: Int, scratch: UnsafeMutablePointer<Float>?) -> RowBase
    static func load(_ row: RowBase, chunk c: Int) -> (Float32x16, Float32x16, Float32x16, Float32x16)
    /// What a chunk's products are multiplied by (the block scales of Q8_0; nothing for the others).
    associatedtype ChunkScale
    static func scale(_ row: RowBase, chunk c: Int) -> ChunkScale
    /// acc += a chunk's products (`s`, lanes in `load`'s order) times `scale`.
    static func accumulate(_ acc: inout Float32x16, _ s: Float32x16, _ scale: ChunkScale)
}

/// Types without block scales: a chunk's products are added as they are.
extension StoredChunks where ChunkScale == Void {
    @inline(__always) static func scale(_ row: RowBase, chunk c: Int) {}
    @inline(__always) static func accumulate(_ acc: inout Float32x16, _ s: Float32x16, _ scale: Void) { acc += s }
}

enum Float32Chunks: StoredChunks {
    typealias ChunkScale = Void
    static func row(_ w: StoredValues, _ row: Int, scratch: UnsafeMutablePointer<Float>?) -> UnsafeRawPointer { w.values + 4 * row * w.columns }
    @inline(__always)
    static func load(_ row: UnsafeRawPointer, chunk c: Int) -> (Float32x16, Float32x16, Float32x16, Float32x16) {
        let p = row + 256 * c
        return (p.loadUnaligned(as: Float32x16.self), p.loadUnaligned(fromByteOffset: 64, as: Float32x16.self),
                p.loadUnaligned(fromByteOffset: 128, as: Float32x16.self), p.loadUnaligned(fromByteOffset: 192, as: Float32x16.self))
    }
}

/// Float16: converted in registers, 16 at a time (`widenHalves`).
enum Float16Chunks: StoredChunks {
    typealias ChunkScale = Void
    static func row(_ w: StoredValues, _ row: Int, scratch: UnsafeMutablePointer<Float>?) -> UnsafeRawPointer { w.values + 2 * row * w.columns }
    @inline(__always)
    static func load(_ row: UnsafeRawPointer, chunk c: Int) -> (Float32x16, Float32x16, Float32x16, Float32x16) {
        let p = row + 128 * c
        return (widenHalves(p), widenHalves(p + 32), widenHalves(p + 64), widenHalves(p + 96))
    }
}

/// A bfloat16 is the top half of a Float32: the low and high halves of each 32-bit lane are two elements.
enum BFloat16Chunks: StoredChunks {
    typealias ChunkScale = Void
    static func row(_ w: StoredValues, _ row: Int, scratch: UnsafeMutablePointer<Float>?) -> UnsafeRawPointer { w.values + 2 * row * w.columns }
    @inline(__always)
    static func load(_ row: UnsafeRawPointer, chunk c: Int) -> (Float32x16, Float32x16, Float32x16, Float32x16) {
        let p = row + 128 * c
        let lo = p.loadUnaligned(as: SIMD16<UInt32>.self), hi = p.loadUnaligned(fromByteOffset: 64, as: SIMD16<UInt32>.self)
        return (unsafeBitCast(lo &<< 16, to: Float32x16.self), unsafeBitCast(lo & 0xFFFF_0000, to: Float32x16.self),
                unsafeBitCast(hi &<< 16, to: Float32x16.self), unsafeBitCast(hi & 0xFFFF_0000, to: Float32x16.self))
    }
}

/// Q8_0: a 64-byte chunk is two blocks; lane i holds bytes 4i … 4i+3, so lanes 0–7 are the first block.
/// A byte b becomes a float without a conversion instruction (Swift's SIMD integer-to-float conversion
/// is a call, not inlined): b + 128 (XOR 0x80) put in the mantissa of 2²³ is the float 2²³ + 128 + b
/// exactly, and subtracting 2²³ + 128 leaves b. A chunk's products are summed unscaled, then multiplied
/// by its two blocks' scales (converted once per row into the worker's scratch) in one FMA.
enum Q8Chunks: StoredChunks {
    struct Row { let values: UnsafeRawPointer; let scales: UnsafePointer<Float> }
    static func row(_ w: StoredValues, _ row: Int, scratch: UnsafeMutablePointer<Float>?) -> Row {
        let blocks = w.columns / WeightType.blockSize
        HalfConversion.convert(UnsafeRawPointer(w.scales! + row * blocks), count: blocks, into: scratch!)
        return Row(values: w.values + row * w.columns, scales: scratch!)
    }
    @inline(__always)
    static func load(_ row: Row, chunk c: Int) -> (Float32x16, Float32x16, Float32x16, Float32x16) {
        let biased = (row.values + 64 * c).loadUnaligned(as: SIMD16<UInt32>.self) ^ 0x8080_8080
        let two23 = SIMD16<UInt32>(repeating: 0x4B00_0000), offset = Float32x16(repeating: 8_388_736)
        @inline(__always) func byte(_ bits: SIMD16<UInt32>) -> Float32x16 { unsafeBitCast(bits | two23, to: Float32x16.self) - offset }
        return (byte(biased & 0xFF), byte((biased &>> 8) & 0xFF), byte((biased &>> 16) & 0xFF), byte(biased &>> 24))
    }
    @inline(__always)
    static func scale(_ row: Row, chunk c: Int) -> Float32x16 {
        Float32x16(lowHalf: SIMD8(repeating: row.scales[2 * c]), highHalf: SIMD8(repeating: row.scales[2 * c + 1]))
    }
    @inline(__always)
    static func accumulate(_ acc: inout Float32x16, _ s: Float32x16, _ scale: Float32x16) { acc.addProduct(s, scale) }
}
