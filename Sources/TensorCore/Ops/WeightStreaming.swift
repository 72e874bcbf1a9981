import CPrefetch

/// y[b, o] = Σ_k W[o, k] · x[b, k] for a few rows b of x (decode, batched decode): W is streamed once, each
/// 64-element chunk of a row decoded in registers from its stored type. One x row (decode) is memory-bound:
/// W is read strictly in order. A batch is compute-bound: tiles of 4 W rows × 4 x rows use each decoded W
/// chunk for four x rows and each loaded x chunk for four W rows. Output rows are split across the workers.
/// Legend: B batch (rows of x), K columns of W (in), O rows of W (out).
enum WeightStreaming {
    typealias V = Float32x16
    static let chunk = 64

    /// x [B, K] (row b at x + b · `xStride`, ≥ K) → y [B, O] (overwritten).
    static func multiply(_ w: StoredValues, x: UnsafePointer<Float>, batch: Int, xStride: Int, y: UnsafeMutablePointer<Float>) {
        switch w.type {
        case .f32: multiply(Float32Chunks.self, w, FloatRows(x: x, stride: xStride), batch: batch, y: y)
        case .f16: multiply(Float16Chunks.self, w, FloatRows(x: x, stride: xStride), batch: batch, y: y)
        case .bf16:
            // BF16 chunks come out of their lanes interleaved: x is reordered to match, once per call.
            let k = w.columns
            let permuted = UnsafeMutablePointer<Float>.allocate(capacity: max(batch * k, 1))
            defer { permuted.deallocate() }
            for b in 0..<batch { permuteChunks(x + b * xStride, count: k, into: permuted + b * k) }
            multiply(BFloat16Chunks.self, w, FloatRows(x: permuted, stride: k), batch: batch, y: y)
        case .q8_0:
            Q8Activations.quantizing(x, rows: batch, columns: w.columns, stride: xStride) {
                multiply(Q8Chunks.self, w, $0, batch: batch, y: y)
            }
        }
    }

    static func multiply<C: StoredChunks>(_: C.Type, _ w: StoredValues, _ x: C.Operand, batch: Int, y: UnsafeMutablePointer<Float>) {
        let (o, k) = (w.rows, w.columns)
        let io = StreamingPointers(x: x, y: y, batch: batch)
        // Small matrices run on one worker: a hand-off costs more than the work.
        let granularity = o * k * w.type.valueSize < 1 << 17 ? o : 16
        Parallel.forEachRange(o, granularity: granularity) { rows in
            // Q8_0 rows' block scales are converted to Float32 into this scratch once per row (of a tile).
            withUnsafeTemporaryAllocation(of: Float.self, capacity: w.type == .q8_0 ? tile * k / 32 : 0) { scratch in
                dotRows(C.self, w, io, rows, scratch: scratch.baseAddress)
            }
        }
    }

    struct StreamingPointers<Operand>: @unchecked Sendable {
        let x: Operand
        let y: UnsafeMutablePointer<Float>
        let batch: Int
    }

    /// Reorders each full 64-chunk of x the way `BFloat16Chunks.load` returns a chunk of W (the tail stays in
    /// order): two elements share a 32-bit lane, elements 2i and 2i + 1 of each 32-element half.
    static func permuteChunks(_ x: UnsafePointer<Float>, count k: Int, into out: UnsafeMutablePointer<Float>) {
        let full = k / chunk * chunk
        out.update(from: x, count: k)
        for base in stride(from: 0, to: full, by: 32) {
            for lane in 0..<16 { for j in 0..<2 { out[base + j * 16 + lane] = x[base + lane * 2 + j] } }
        }
    }

    static let tile = 4
    /// How far ahead of its reads (bytes) the one-row loop asks for weights into L2: a core's own loads keep too
    /// few lines in flight to reach the machine's read bandwidth. Measured on 130m decode, alternating distances
    /// of 0, 2, 4, 8 and 16 KiB: 8 KiB gave BF16 +60%, Q8_0 +25%, F32 +5% (97%, 71%, 89% of bandwidth).
    static let prefetchDistance = 8192

    /// Rows `rows` of y for every x row: groups of four x rows in tiles of four W rows, the other x rows one W
    /// row at a time. Per output the operations are the same either way — each chunk's four products summed
    /// (`dot`), added to the row's accumulator, a tree sum of the lanes, then the tail — so a batched step
    /// equals single steps bit for bit.
    @inline(__always)
    static func dotRows<C: StoredChunks>(_: C.Type, _ w: StoredValues, _ io: StreamingPointers<C.Operand>, _ rows: Range<Int>,
                                         scratch: UnsafeMutablePointer<Float>?) {
        let grouped = io.batch / tile * tile
        if grouped > 0 {
            let perRow = w.type == .q8_0 ? w.columns / WeightType.blockSize : 0
            var first = rows.lowerBound
            while first < rows.upperBound {
                let count = min(tile, rows.upperBound - first)
                // A short tile (the last rows of a range) repeats its last row and keeps only its own outputs.
                func base(_ i: Int) -> C.RowBase { C.row(w, first + min(i, count - 1), scratch: scratch.map { $0 + i * perRow }) }
                let rowTile = RowTile<C>(bases: (base(0), base(1), base(2), base(3)), first: first, count: count)
                // The first group of x rows waits for this tile's weights from memory; the later groups compute
                // from cache and meanwhile fetch the next tile's weights, a share each, so memory never idles.
                let next = first + count, nextRows = min(tile, rows.upperBound - next)
                let lines = nextRows * w.columns * w.type.valueSize / 64, groups = grouped / tile
                for (g, b) in stride(from: 0, to: grouped, by: tile).enumerated() {
                    let share = g == 0 || nextRows == 0 ? 0..<0 : (lines * (g - 1) / (groups - 1))..<(lines * g / (groups - 1))
                    rowTile.multiply(w, io, batch: b, prefetching: w.values + next * w.columns * w.type.valueSize, lines: share)
                }
                first += count
            }
        }
        if grouped == io.batch { return }
        let (o, k, chunks) = (w.rows, w.columns, w.columns / chunk)
        let rowBytes = k * w.type.valueSize, chunkBytes = chunk * w.type.valueSize
        for row in rows {
            let base = C.row(w, row, scratch: scratch)
            let ahead = w.values + row * rowBytes + prefetchDistance
            for b in grouped..<io.batch {
                var acc = V()
                for c in 0..<chunks {
                    if b == grouped { for line in stride(from: 0, to: chunkBytes, by: 64) { prefetch_to_l2(ahead + c * chunkBytes + line) } }
                    C.accumulate(&acc, C.load(base, chunk: c), C.scale(base, chunk: c), io.x, row: b, chunk: c)
                }
                io.y[b * o + row] = treeSum(acc) + C.tail(w, row, base, io.x, row: b, from: chunks * chunk)
            }
        }
    }

    /// Σ of a chunk's four products, lane by lane: w0·x0 + w1·x1 + w2·x2 + w3·x3 (x the chunk's 64 elements).
    @inline(__always)
    static func dot(_ w: (V, V, V, V), _ x: UnsafePointer<Float>) -> V {
        let p = UnsafeRawPointer(x)
        var s = w.0 * p.loadUnaligned(as: V.self)
        s.addProduct(w.1, p.loadUnaligned(fromByteOffset: 64, as: V.self))
        s.addProduct(w.2, p.loadUnaligned(fromByteOffset: 128, as: V.self))
        s.addProduct(w.3, p.loadUnaligned(fromByteOffset: 192, as: V.self))
        return s
    }

    /// The columns past the last full chunk (x is in natural order there), 16 at a time: read in place for
    /// Float32, decoded into a stack buffer otherwise (Mamba's dt_proj, whose rows are dt_rank long, is all tail).
    @inline(__always)
    static func floatTail(_ w: StoredValues, _ row: Int, _ x: UnsafePointer<Float>, from first: Int) -> Float {
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

/// Four W rows (`first ..< first + count` kept) against four x rows: sixteen accumulators in registers.
struct RowTile<C: StoredChunks> {
    typealias V = Float32x16
    let bases: (C.RowBase, C.RowBase, C.RowBase, C.RowBase)
    let first: Int, count: Int

    /// x rows `batch ..< batch + 4`; meanwhile the 64-byte `lines` from `ahead` are fetched into cache.
    @inline(__always)
    func multiply(_ w: StoredValues, _ io: WeightStreaming.StreamingPointers<C.Operand>, batch: Int, prefetching ahead: UnsafeRawPointer,
                  lines: Range<Int>) {
        let (k, chunk) = (w.columns, WeightStreaming.chunk)
        var a0 = RowSums(), a1 = RowSums(), a2 = RowSums(), a3 = RowSums()
        let chunks = k / chunk, perChunk = chunks == 0 ? 0 : (lines.count + chunks - 1) / chunks
        var line = lines.lowerBound
        for c in 0..<chunks {
            for _ in 0..<perChunk where line < lines.upperBound { prefetch_to_l2(ahead + 64 * line); line += 1 }
            let w0 = C.load(bases.0, chunk: c), w1 = C.load(bases.1, chunk: c), w2 = C.load(bases.2, chunk: c), w3 = C.load(bases.3, chunk: c)
            let scales = (C.scale(bases.0, chunk: c), C.scale(bases.1, chunk: c), C.scale(bases.2, chunk: c), C.scale(bases.3, chunk: c))
            a0.add(C.self, (w0, w1, w2, w3), scales, io.x, row: batch, chunk: c)
            a1.add(C.self, (w0, w1, w2, w3), scales, io.x, row: batch + 1, chunk: c)
            a2.add(C.self, (w0, w1, w2, w3), scales, io.x, row: batch + 2, chunk: c)
            a3.add(C.self, (w0, w1, w2, w3), scales, io.x, row: batch + 3, chunk: c)
        }
        store(a0, w, io, batch: batch); store(a1, w, io, batch: batch + 1)
        store(a2, w, io, batch: batch + 2); store(a3, w, io, batch: batch + 3)
    }

    @inline(__always)
    func store(_ sums: RowSums, _ w: StoredValues, _ io: WeightStreaming.StreamingPointers<C.Operand>, batch b: Int) {
        let (o, k) = (w.rows, w.columns)
        let full = k / WeightStreaming.chunk * WeightStreaming.chunk
        @inline(__always) func put(_ i: Int, _ base: C.RowBase, _ acc: V) {
            if i < count { io.y[b * o + first + i] = treeSum(acc) + C.tail(w, first + i, base, io.x, row: b, from: full) }
        }
        put(0, bases.0, sums.r0); put(1, bases.1, sums.r1); put(2, bases.2, sums.r2); put(3, bases.3, sums.r3)
    }
}

/// The accumulators of four W rows against one x row.
struct RowSums {
    typealias V = Float32x16
    var r0 = V(), r1 = V(), r2 = V(), r3 = V()

    /// Each W row's chunk `c` times x row `b`'s, added to its accumulator.
    @inline(__always)
    mutating func add<C: StoredChunks>(_: C.Type, _ w: (C.Chunk, C.Chunk, C.Chunk, C.Chunk),
                                       _ scales: (C.ChunkScale, C.ChunkScale, C.ChunkScale, C.ChunkScale), _ x: C.Operand,
                                       row b: Int, chunk c: Int) {
        C.accumulate(&r0, w.0, scales.0, x, row: b, chunk: c)
        C.accumulate(&r1, w.1, scales.1, x, row: b, chunk: c)
        C.accumulate(&r2, w.2, scales.2, x, row: b, chunk: c)
        C.accumulate(&r3, w.3, scales.3, x, row: b, chunk: c)
    }
}

/// One stored type's side of y = W x: 64-element chunks of a W row loaded (decoded in registers), and the
/// products of a chunk with the same chunk of an x row (`Operand`: x as that type's products read it)
/// added, lane by lane, to an accumulator whose lanes are summed at the end.
protocol StoredChunks {
    associatedtype RowBase
    associatedtype Chunk
    associatedtype ChunkScale
    associatedtype Operand
    /// Row `row` ready for `load`; `scratch` (`columns` / 32 floats) is there for types with block scales.
    static func row(_ w: StoredValues, _ row: Int, scratch: UnsafeMutablePointer<Float>?) -> RowBase
    static func load(_ row: RowBase, chunk c: Int) -> Chunk
    /// What a chunk's products are multiplied by (the block scales of Q8_0; nothing for the others).
    static func scale(_ row: RowBase, chunk c: Int) -> ChunkScale
    /// acc += W's chunk `c` (`w`, `scale`) times x row `b`'s chunk `c`, lane by lane.
    static func accumulate(_ acc: inout Float32x16, _ w: Chunk, _ scale: ChunkScale, _ x: Operand, row b: Int, chunk c: Int)
    /// Σ over the columns from `first` (past the last full chunk) of W row `row` times x row `b`.
    static func tail(_ w: StoredValues, _ row: Int, _ base: RowBase, _ x: Operand, row b: Int, from first: Int) -> Float
}

/// x as the Float32 types read it: row b at x + b · stride.
struct FloatRows {
    let x: UnsafePointer<Float>
    let stride: Int
}

/// The Float32, Float16 and bfloat16 chunks: four Float32 vectors, their products with x added unscaled.
protocol FloatChunks: StoredChunks where Chunk == (Float32x16, Float32x16, Float32x16, Float32x16), ChunkScale == Void,
                                         Operand == FloatRows {}

extension FloatChunks {
    @inline(__always) static func scale(_ row: RowBase, chunk c: Int) {}
    @inline(__always)
    static func accumulate(_ acc: inout Float32x16, _ w: Chunk, _ scale: Void, _ x: FloatRows, row b: Int, chunk c: Int) {
        acc += WeightStreaming.dot(w, x.x + b * x.stride + c * WeightStreaming.chunk)
    }
    @inline(__always)
    static func tail(_ w: StoredValues, _ row: Int, _ base: RowBase, _ x: FloatRows, row b: Int, from first: Int) -> Float {
        WeightStreaming.floatTail(w, row, x.x + b * x.stride, from: first)
    }
}

enum Float32Chunks: FloatChunks {
    static func row(_ w: StoredValues, _ row: Int, scratch: UnsafeMutablePointer<Float>?) -> UnsafeRawPointer { w.values + 4 * row * w.columns }
    @inline(__always)
    static func load(_ row: UnsafeRawPointer, chunk c: Int) -> (Float32x16, Float32x16, Float32x16, Float32x16) {
        let p = row + 256 * c
        return (p.loadUnaligned(as: Float32x16.self), p.loadUnaligned(fromByteOffset: 64, as: Float32x16.self),
                p.loadUnaligned(fromByteOffset: 128, as: Float32x16.self), p.loadUnaligned(fromByteOffset: 192, as: Float32x16.self))
    }
}

/// Float16: converted in registers, 16 at a time (`widenHalves`).
enum Float16Chunks: FloatChunks {
    static func row(_ w: StoredValues, _ row: Int, scratch: UnsafeMutablePointer<Float>?) -> UnsafeRawPointer { w.values + 2 * row * w.columns }
    @inline(__always)
    static func load(_ row: UnsafeRawPointer, chunk c: Int) -> (Float32x16, Float32x16, Float32x16, Float32x16) {
        let p = row + 128 * c
        return (widenHalves(p), widenHalves(p + 32), widenHalves(p + 64), widenHalves(p + 96))
    }
}

/// A bfloat16 is the top half of a Float32: the low and high halves of each 32-bit lane are two elements.
enum BFloat16Chunks: FloatChunks {
    static func row(_ w: StoredValues, _ row: Int, scratch: UnsafeMutablePointer<Float>?) -> UnsafeRawPointer { w.values + 2 * row * w.columns }
    @inline(__always)
    static func load(_ row: UnsafeRawPointer, chunk c: Int) -> (Float32x16, Float32x16, Float32x16, Float32x16) {
        let p = row + 128 * c
        let lo = p.loadUnaligned(as: SIMD16<UInt32>.self), hi = p.loadUnaligned(fromByteOffset: 64, as: SIMD16<UInt32>.self)
        return (unsafeBitCast(lo &<< 16, to: Float32x16.self), unsafeBitCast(lo & 0xFFFF_0000, to: Float32x16.self),
                unsafeBitCast(hi &<< 16, to: Float32x16.self), unsafeBitCast(hi & 0xFFFF_0000, to: Float32x16.self))
    }
}
