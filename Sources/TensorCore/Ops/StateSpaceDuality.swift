import Foundation

/// The scan of Mamba-2 (SSD, Dao & Gu 2024, "Transformers are SSMs"), two ways.
/// Legend: L length, H heads, P head_dim, G groups, N d_state, Q chunk_size; E = H·P. Head h reads
/// group g = h / (H / G). A is a scalar per head, so each head's recurrence is
///   h_t = exp(Δ_t·A) · h_{t−1} + Δ_t · x_t B_tᵀ        h [P, N]   (SSD §3: the scalar-identity SSM)
///   y_t = h_t C_t + D · x_t                            y [P]
/// Inputs: x [L, E], delta [L, H] (Δ, after softplus and clamping), A [H] (negative: −exp(A_log)),
/// B [L, G·N], C [L, G·N], D [H]. `state` [E, N] is h for every head, head-major: rows h·P ..< (h+1)·P
/// belong to head h (HF's `ssm_state` [H, P, N] flattened). It is carried in and out.
public enum StateSpaceDuality {
    /// Chunked SSD (the "minimal SSD" algorithm of the paper, §7, as transformers' `torch_forward`):
    /// within a chunk of Q positions the output is a masked matrix product (the quadratic, attention-like
    /// form: Y = (L ∘ C Bᵀ) · (Δ ⊙ X), with L the decay mask); between chunks only the [P, N] state is
    /// passed. A last chunk shorter than Q is simply processed shorter (transformers pads it with Δ = 0,
    /// which is the same thing).
    public static func chunked(x: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor,
                               groups: Int, chunkSize: Int, state: inout Tensor) -> Tensor {
        let shape = Shape(x: x, delta: delta, A: A, B: B, C: C, D: D, groups: groups, stateShape: state.shape)
        let (l, h, p, g, n) = (shape.length, shape.heads, shape.headDim, groups, shape.stateSize)
        precondition(chunkSize > 0, "StateSpaceDuality: chunk size \(chunkSize)")
        var y = Tensor(zeros: [l, h * p])
        if l == 0 { return y }
        let q = chunkSize
        let chunks = (l + q - 1) / q
        // 1. Per chunk and group, the [Q, Q] scores C Bᵀ (shared by the H/G heads of a group).
        var scores = [Float](repeating: 0, count: chunks * g * q * q)
        scores.withUnsafeMutableBufferPointer { sp in
            let out = SendablePointer(sp.baseAddress!)
            Parallel.forEachRange(chunks * g) { range in
                var bChunk = [Float](repeating: 0, count: q * n), cChunk = bChunk
                for item in range {
                    let (chunk, group) = (item / g, item % g)
                    let (t0, len) = (chunk * q, min(q, l - chunk * q))
                    gatherGroup(B, rows: t0..<(t0 + len), group: group, size: n, into: &bChunk)
                    gatherGroup(C, rows: t0..<(t0 + len), group: group, size: n, into: &cChunk)
                    bChunk.withUnsafeBufferPointer { bp in cChunk.withUnsafeBufferPointer { cp in
                        BLAS.gemm(m: len, n: len, k: n, a: cp.baseAddress!, b: bp.baseAddress!, transposeB: true,
                                  c: out.p + item * q * q)
                    }}
                }
            }
        }
        // 2. Per head, chunk after chunk: output of the chunk, then the state passed to the next.
        Tensor.withStorage(reading: [Tensor(shape: [scores.count], data: scores), x, delta, A, B, C, D], writing: &state, &y) { i, o in
            let io = SendablePointer(ChunkWork.Pointers(scores: i[0], x: i[1], delta: i[2], A: i[3], B: i[4], C: i[5], D: i[6],
                                                        state: o[0], y: o[1], length: l, heads: h, headDim: p, groups: g,
                                                        stateSize: n, chunkSize: q))
            Parallel.forEachRange(h) { range in
                let work = ChunkWork(io.p)
                for head in range {
                    for chunk in 0..<chunks { work.run(head: head, chunk: chunk) }
                }
            }
        }
        return y
    }

    /// The slow twin and the one-token step: the recurrence written literally, one position at a time.
    public static func sequential(x: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor,
                                  groups: Int, state: inout Tensor) -> Tensor {
        let shape = Shape(x: x, delta: delta, A: A, B: B, C: C, D: D, groups: groups, stateShape: state.shape)
        let (l, h, p, n) = (shape.length, shape.heads, shape.headDim, shape.stateSize)
        var y = Tensor(zeros: [l, h * p])
        x.data.withUnsafeBufferPointer { xp in
        delta.data.withUnsafeBufferPointer { dp in
        B.data.withUnsafeBufferPointer { bp in
        C.data.withUnsafeBufferPointer { cp in
        state.data.withUnsafeMutableBufferPointer { hp in
        y.data.withUnsafeMutableBufferPointer { yp in
            let io = StepPointers(x: xp.baseAddress!, delta: dp.baseAddress!, B: bp.baseAddress!, C: cp.baseAddress!,
                                  state: hp.baseAddress!, y: yp.baseAddress!, heads: h, headDim: p, groups: groups, stateSize: n)
            Parallel.forEachRange(h) { range in
                for head in range { for t in 0..<l { stepHead(io, position: t, head: head, A: A, D: D) } }
            }
        }}}}}}
        return y
    }

    /// One position of one sequence on pointers (a model's decode step): x [E], Δ [H], B, C [G·N] (read in place
    /// from the convolved row), y [E], state [E, N]; A, D [H]. `acrossWorkers`: split the heads over the workers
    /// (one sequence); false when the caller already runs sequences in parallel.
    public static func step(x: UnsafePointer<Float>, delta: UnsafePointer<Float>, A: Tensor, B: UnsafePointer<Float>,
                            C: UnsafePointer<Float>, D: Tensor, groups: Int, state: UnsafeMutablePointer<Float>,
                            y: UnsafeMutablePointer<Float>, headDim: Int, stateSize: Int, acrossWorkers: Bool) {
        let h = A.count
        let io = StepPointers(x: x, delta: delta, B: B, C: C, state: state, y: y, heads: h, headDim: headDim, groups: groups,
                              stateSize: stateSize)
        let run = { (range: Range<Int>) in for head in range { stepHead(io, position: 0, head: head, A: A, D: D) } }
        if acrossWorkers { Parallel.forEachRange(h, run) } else { run(0..<h) }
    }

    /// Position t's rows of x [L, E], Δ [L, H], B, C [L, G·N], y [L, E], and the state [E, N].
    struct StepPointers: @unchecked Sendable {
        let x, delta, B, C: UnsafePointer<Float>
        let state, y: UnsafeMutablePointer<Float>
        let heads, headDim, groups, stateSize: Int
    }

    /// Head `head` at position t: h ← exp(Δ·A)·h + Δ·x Bᵀ, y = h C + D·x, over its P rows of the state.
    @inline(__always)
    static func stepHead(_ io: StepPointers, position t: Int, head: Int, A: Tensor, D: Tensor) {
        let (h, p, n, groups) = (io.heads, io.headDim, io.stateSize, io.groups)
        let group = head / (h / groups)
        let (a, d) = (A.data[head], D.data[head])
        let dt = io.delta[t * h + head]
        let decay = Foundation.exp(dt * a)
        let bt = t * groups * n + group * n
        for i in 0..<p {
            let xv = io.x[t * h * p + head * p + i]
            let hRow = io.state + (head * p + i) * n
            var out: Float = 0
            for s in 0..<n {
                hRow[s] = decay * hRow[s] + dt * xv * io.B[bt + s]
                out += hRow[s] * io.C[bt + s]
            }
            io.y[t * h * p + head * p + i] = out + d * xv
        }
    }

    struct Shape {
        let length, heads, headDim, stateSize: Int
        init(x: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, groups: Int, stateShape: [Int]) {
            (length, heads) = (x.rows, delta.columns)
            headDim = x.columns / max(heads, 1)
            stateSize = B.columns / max(groups, 1)
            precondition(heads > 0 && groups > 0 && heads % groups == 0 && x.columns == heads * headDim
                         && delta.rows == length && A.count == heads && D.count == heads
                         && B.shape == [length, groups * stateSize] && C.shape == B.shape
                         && stateShape == [heads * headDim, stateSize],
                         "StateSpaceDuality: x \(x.shape), Δ \(delta.shape), A \(A.shape), B \(B.shape), C \(C.shape), "
                         + "D \(D.shape), groups \(groups), state \(stateShape) do not agree")
        }
    }

    /// Rows `rows` of group `group`'s N columns of a [L, G·N] matrix, packed into [rows.count, N].
    static func gatherGroup(_ m: Tensor, rows: Range<Int>, group: Int, size n: Int, into out: inout [Float]) {
        let stride = m.columns
        for (j, t) in rows.enumerated() {
            for s in 0..<n { out[j * n + s] = m.data[t * stride + group * n + s] }
        }
    }
}

/// One worker's scratch buffers and the work of one chunk of one head (step 2 of `chunked`).
/// Within the chunk (rows t0 ..< t0 + len; i, j positions in it; a_k = Δ_k·A):
///   Y_diag = M · X,   M[i, j] = (C_i·B_j) · exp(Σ_{k=j+1..i} a_k) · Δ_j  for j ≤ i, else 0
///   Y_off  = diag(exp(Σ_{k≤i} a_k)) · C · h₀ᵀ                        (the state entering the chunk)
///   h_new  = exp(Σ_k a_k) · h₀ + Xᵀ · (w ⊙ B),   w_j = exp(Σ_{k=j+1..len−1} a_k) · Δ_j
/// Segment sums are accumulated term by term (as transformers' `segment_sum`), not as differences of
/// one long cumulative sum, which would lose precision when the decay is strong. The O(Q²) loops run
/// over raw buffers so that they vectorize; a class, so the buffers are freed once, in `deinit`.
final class ChunkWork {
    /// The storage step 2 of `chunked` works on (scores [chunks, G, Q, Q] of step 1; the rest as `chunked`'s
    /// arguments), and the sizes.
    struct Pointers {
        let scores, x, delta, A, B, C, D: UnsafePointer<Float>
        let state, y: UnsafeMutablePointer<Float>
        let length, heads, headDim, groups, stateSize, chunkSize: Int
    }

    let io: Pointers
    let q, p, n: Int
    /// mask [Q, Q], xHead / yHead [Q, P], b / c [Q, N], row / dt / a [Q]
    let mask, xHead, yHead, b, c, row, dt, a: UnsafeMutablePointer<Float>

    init(_ io: Pointers) {
        self.io = io
        let (q, p, n) = (io.chunkSize, io.headDim, io.stateSize)
        (self.q, self.p, self.n) = (q, p, n)
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            pointer.initialize(repeating: 0, count: count)
            return pointer
        }
        (mask, xHead, yHead) = (buffer(q * q), buffer(q * p), buffer(q * p))
        (b, c, row, dt, a) = (buffer(q * n), buffer(q * n), buffer(q), buffer(q), buffer(q))
    }

    deinit { for pointer in [mask, xHead, yHead, b, c, row, dt, a] { pointer.deallocate() } }

    /// Chunk `chunk` of head `head`: its output rows of y, and the head's state carried past it.
    func run(head: Int, chunk: Int) {
        let (h, groups, x, delta, B, C) = (io.heads, io.groups, io.x, io.delta, io.B, io.C)
        let group = head / (h / groups)
        let rows = (chunk * q)..<min(io.length, (chunk + 1) * q)
        let (aHead, d) = (io.A[head], io.D[head])
        let scores = io.scores + (chunk * groups + group) * q * q
        let (state, y) = (io.state + head * self.p * self.n, io.y)
        let (len, t0, p, n) = (rows.count, rows.lowerBound, self.p, self.n)
        let (xStride, bStride) = (h * p, groups * n)
        for j in 0..<len {
            dt[j] = delta[(t0 + j) * h + head]
            a[j] = dt[j] * aHead
            (xHead + j * p).update(from: x + (t0 + j) * xStride + head * p, count: p)
            (b + j * n).update(from: B + (t0 + j) * bStride + group * n, count: n)
            (c + j * n).update(from: C + (t0 + j) * bStride + group * n, count: n)
        }
        // M, row by row; `row[j]` holds Σ_{k=j+1..i} a_k for the current i.
        var cumulative: Float = 0
        for i in 0..<len {
            let ai = a[i]
            for j in 0..<i { row[j] += ai }
            row[i] = 0
            cumulative += ai
            let m = mask + i * len, s = scores + i * len
            StateSpaceDuality.exp(row, count: i + 1, into: m)
            for j in 0...i { m[j] *= s[j] * dt[j] }
            for j in (i + 1)..<max(i + 1, len) { m[j] = 0 }
            // C_i scaled by the decay from the chunk start, for Y_off.
            let scale = Foundation.exp(cumulative)
            for k in 0..<n { c[i * n + k] *= scale }
        }
        // w_j B_j, with the suffix sums Σ_{k=j+1..len−1} a_k.
        var suffix: Float = 0
        for j in stride(from: len - 1, through: 0, by: -1) {
            let w = Foundation.exp(suffix) * dt[j]
            for k in 0..<n { b[j * n + k] *= w }
            suffix += a[j]
        }
        let chunkDecay = Foundation.exp(suffix)  // exp(Σ_k a_k)
        BLAS.gemm(m: len, n: p, k: len, a: mask, b: xHead, transposeB: false, c: yHead)
        BLAS.gemm(m: len, n: p, k: n, a: c, b: state, transposeB: true, c: yHead, beta: 1)
        for i in 0..<(p * n) { state[i] *= chunkDecay }
        BLAS.gemm(m: p, n: n, k: len, a: xHead, b: b, transposeB: false, c: state, beta: 1, transposeA: true)
        for i in 0..<len {
            let out = y + (t0 + i) * xStride + head * p
            for k in 0..<p { out[k] = yHead[i * p + k] + d * xHead[i * p + k] }
        }
    }
}

extension StateSpaceDuality {
    /// out[j] = exp(values[j]) for j < count, 16 lanes at a time.
    @inline(__always)
    static func exp(_ values: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        var j = 0
        while j + 16 <= count {
            let v = UnsafeRawPointer(values + j).loadUnaligned(as: Float32x16.self)
            UnsafeMutableRawPointer(out + j).storeBytes(of: vexp(v), as: Float32x16.self)
            j += 16
        }
        if j < count {
            var v = Float32x16()
            for lane in 0..<(count - j) { v[lane] = values[j + lane] }
            let e = vexp(v)
            for lane in 0..<(count - j) { out[j + lane] = e[lane] }
        }
    }
}
