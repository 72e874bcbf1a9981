import Foundation

/// Training side of the SSD scan. Legend: L length, H heads, P head_dim, G groups, N d_state, E = H·P,
/// K = ⌈L/chunk⌉ checkpoints; head h reads group g = h / (H/G).
///
/// Memory, as `SelectiveScan+Backward`: the forward keeps only the state at the start of every `chunk`
/// positions (checkpoints [K, E, N]); the backward walks the chunks in reverse and recomputes the states
/// of one chunk of one head at a time with the recurrence, vectorized over the [P, N] state. A state is
/// P·N floats (32 KB at the released 64 × 128), so a whole chunk of them (8 MB at chunk 256) would stream
/// through memory twice per position; instead the chunk is recomputed in blocks of `recomputeBlock`
/// positions: once forward keeping only the state at each block start, then block by block in reverse,
/// keeping the block's (recomputeBlock + 1) states (~0.5 MB, cache-resident) for its backward. With a_t = exp(Δ_t·A) (a scalar per head and position) and G_t = ∂loss/∂h_t [P, N]
/// (the carry from t+1 plus dy_t C_tᵀ):
///   dC_t[s]  += Σ_heads of g Σ_p dy_t[p]·h_t[p,s]        dD      += Σ_t Σ_p dy_t[p]·x_t[p]
///   dB_t[s]  += Σ_heads of g Σ_p G_t[p,s]·Δ_t·x_t[p]      dx_t[p] += dy_t[p]·D + Δ_t·Σ_s G_t[p,s]·B_t[s]
///   dΔ_t     += Σ_p x_t[p]·Σ_s G_t[p,s]·B_t[s] + A·a_t·⟨G_t, h_{t−1}⟩
///   dA       += Σ_t Δ_t·a_t·⟨G_t, h_{t−1}⟩
///   carry G_{t−1} ← a_t·G_t;  d(initial state) += the carry left at t = 0.
extension StateSpaceDuality {
    /// `chunked` run `chunk` positions at a time, also returning the state entering each of those pieces
    /// ([K, E, N]). When `chunk` is a multiple of `chunkSize`, y and the final state are bit-identical to
    /// one call of `chunked` (the same SSD chunks, the same arithmetic).
    public static func chunkedSavingCheckpoints(_ inputs: ScanInputs, groups: Int, chunkSize: Int, state: inout Tensor,
                                                chunk: Int) -> (y: Tensor, checkpoints: Tensor) {
        precondition(chunk > 0, "StateSpaceDuality: checkpoint chunk must be positive")
        let (x, delta, A, B, C, D) = (inputs.x, inputs.delta, inputs.A, inputs.B, inputs.C, inputs.D)
        let (l, e, n) = (x.rows, x.columns, state.columns)
        var checkpoints = [Float]()
        checkpoints.reserveCapacity((l + chunk - 1) / chunk * e * n)
        var parts: [Tensor] = []
        for begin in stride(from: 0, to: l, by: chunk) {
            let r = begin..<min(l, begin + chunk)
            checkpoints.append(contentsOf: state.data)
            parts.append(chunked(x: x.rows(r), delta: delta.rows(r), A: A, B: B.rows(r), C: C.rows(r), D: D,
                                 groups: groups, chunkSize: chunkSize, state: &state))
        }
        let y = l == 0 ? Tensor(zeros: [0, e]) : Tensor.concatenateRows(parts)
        return (y, Tensor(shape: [(l + chunk - 1) / chunk, e, n], data: checkpoints))
    }

    /// The gradients of every input and of the initial state (see the extension's comment) from dy [L, E]:
    /// x [L, E], delta [L, H], A [H], B, C [L, G·N], D [H], initial state [E, N].
    public static func backward(_ inputs: ScanInputs, groups: Int, checkpoints: Tensor, chunk: Int,
                                outputGradient dy: Tensor) -> ScanGradients {
        let (x, A, D) = (inputs.x, inputs.A, inputs.D)
        let shape = Shape(x: x, delta: inputs.delta, A: A, B: inputs.B, C: inputs.C, D: D, groups: groups,
                          stateShape: [x.columns, inputs.B.columns / max(groups, 1)])
        let (l, h, p, n) = (shape.length, shape.heads, shape.headDim, shape.stateSize)
        precondition(chunk > 0 && dy.shape == x.shape && checkpoints.shape == [(l + chunk - 1) / chunk, h * p, n],
                     "StateSpaceDuality.backward: shapes do not agree")
        var gradients = ScanGradients(zerosFor: inputs, stateShape: [h * p, n])
        guard l > 0 else { return gradients }
        let lock = NSLock()
        gradients.withStorage(reading: inputs.tensors + [checkpoints, dy]) { input, output in
            let io = SendablePointer(SSDGradientPointers(input, output, length: l, heads: h, headDim: p, groups: groups,
                                                         states: n, chunk: chunk))
            let (dB, dC) = (SendablePointer(output[3]), SendablePointer(output[4]))
            Parallel.forEachRange(h) { range in
                // dB, dC sum over the heads of a group: each worker keeps partial sums [L, G·N] over its
                // heads and adds them once, under the lock.
                let work = HeadBackwardWork(io.p)
                for head in range { work.run(head: head, a: A.data[head], d: D.data[head]) }
                lock.lock()
                for i in 0..<(l * groups * n) {
                    dB.p[i] += work.partialB[i]
                    dC.p[i] += work.partialC[i]
                }
                lock.unlock()
            }
        }
        return gradients
    }

    /// The storage `backward` works on: the inputs (x, delta, A, B, C, D, checkpoints, dy; A and D are
    /// read as values per head) and the gradients (dx, dDelta, dA, dB, dC, dD, dState), in `ScanInputs`'
    /// and `ScanGradients`' order.
    struct SSDGradientPointers {
        let x, delta, B, C, checkpoints, dy: UnsafePointer<Float>
        let dx, dDelta, dA, dD, dState: UnsafeMutablePointer<Float>
        let length, heads, headDim, groups, states, chunk: Int

        init(_ i: [UnsafePointer<Float>], _ o: [UnsafeMutablePointer<Float>],
             length: Int, heads: Int, headDim: Int, groups: Int, states: Int, chunk: Int) {
            (x, delta, B, C, checkpoints, dy) = (i[0], i[1], i[3], i[4], i[6], i[7])
            (dx, dDelta, dA, dD, dState) = (o[0], o[1], o[2], o[5], o[6])
            (self.length, self.heads, self.headDim, self.groups, self.states, self.chunk) = (length, heads, headDim, groups, states, chunk)
        }
    }

    /// Positions recomputed and walked back together (see the extension's comment).
    static let recomputeBlock = 16

    /// One worker's buffers and the backward of one head over all positions, chunk by chunk in reverse.
    final class HeadBackwardWork {
        let io: SSDGradientPointers
        let block: Int
        /// partialB / partialC [L, G·N]; starts [⌈chunk/block⌉, P, N] (h at each block start of the chunk);
        /// states [block + 1, P, N] (h at block steps 0…block); carry [P, N]; decay [block] (a_t of the block)
        let partialB, partialC, starts, states, carry, decay: UnsafeMutablePointer<Float>

        init(_ io: SSDGradientPointers) {
            self.io = io
            block = min(io.chunk, StateSpaceDuality.recomputeBlock)
            let (p, n) = (io.headDim, io.states)
            func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
                let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
                pointer.initialize(repeating: 0, count: count)
                return pointer
            }
            (partialB, partialC) = (buffer(io.length * io.groups * n), buffer(io.length * io.groups * n))
            starts = buffer((io.chunk + block - 1) / block * p * n)
            (states, carry, decay) = (buffer((block + 1) * p * n), buffer(p * n), buffer(block))
        }

        deinit { for pointer in [partialB, partialC, starts, states, carry, decay] { pointer.deallocate() } }

        func run(head: Int, a: Float, d: Float) {
            let (l, h, pn, chunk) = (io.length, io.heads, io.headDim * io.states, io.chunk)
            let group = head / (h / io.groups)
            carry.update(repeating: 0, count: pn)
            var sums = (dA: Float(0), dD: Float(0))
            for k in stride(from: (l + chunk - 1) / chunk - 1, through: 0, by: -1) {
                let (t0, t1) = (k * chunk, min(l, (k + 1) * chunk))
                let blocks = (t1 - t0 + block - 1) / block
                // The state at every block start, from the chunk's checkpoint.
                starts.update(from: io.checkpoints + k * h * pn + head * pn, count: pn)
                for j in 0..<(blocks - 1) {
                    let b0 = t0 + j * block
                    recompute(head: head, group: group, a: a, rows: b0..<(b0 + block), from: starts + j * pn)
                    (starts + (j + 1) * pn).update(from: states + block * pn, count: pn)
                }
                // Block by block in reverse: its states again, then its backward.
                for j in stride(from: blocks - 1, through: 0, by: -1) {
                    let rows = (t0 + j * block)..<min(t1, t0 + (j + 1) * block)
                    recompute(head: head, group: group, a: a, rows: rows, from: starts + j * pn)
                    walkBack(head: head, group: group, a: a, d: d, rows: rows, sums: &sums)
                }
            }
            io.dA[head] += sums.dA
            io.dD[head] += sums.dD
            let dState = io.dState + head * pn
            for i in 0..<pn { dState[i] += carry[i] }
        }

        /// states[0] = h at rows.lowerBound (`start`), states[i + 1] = h after row rows.lowerBound + i, and
        /// decay[i] = a of that row: the forward recurrence h_t = a_t·h_{t−1} + Δ_t·x_t B_tᵀ.
        func recompute(head: Int, group: Int, a: Float, rows: Range<Int>, from start: UnsafePointer<Float>) {
            let (h, p, n) = (io.heads, io.headDim, io.states)
            let (xStride, bStride, pn) = (h * p, io.groups * n, p * n)
            states.update(from: start, count: pn)
            for t in rows {
                let i = t - rows.lowerBound
                let dt = io.delta[t * h + head]
                let decayT = Foundation.exp(dt * a)
                decay[i] = decayT
                let bt = io.B + t * bStride + group * n, xt = io.x + t * xStride + head * p
                let previous = states + i * pn, next = states + (i + 1) * pn
                for row in 0..<p {
                    let input = dt * xt[row]
                    let hp = previous + row * n, hn = next + row * n
                    for s in 0..<n { hn[s] = decayT * hp[s] + input * bt[s] }
                }
            }
        }

        /// The backward of `rows` (their states in `states`), last row first, carrying G in `carry`.
        func walkBack(head: Int, group: Int, a: Float, d: Float, rows: Range<Int>, sums: inout (dA: Float, dD: Float)) {
            let (h, p, n) = (io.heads, io.headDim, io.states)
            let (xStride, bStride, pn) = (h * p, io.groups * n, p * n)
            for t in rows.reversed() {
                let i = t - rows.lowerBound
                let dt = io.delta[t * h + head], decayT = decay[i]
                let bt = io.B + t * bStride + group * n, ct = io.C + t * bStride + group * n
                let pb = partialB + t * bStride + group * n, pc = partialC + t * bStride + group * n
                let xt = io.x + t * xStride + head * p, dyt = io.dy + t * xStride + head * p
                let dxt = io.dx + t * xStride + head * p
                var stateDot: Float = 0, xGB: Float = 0
                for row in 0..<p {
                    let (dyv, xv) = (dyt[row], xt[row])
                    let g = carry + row * n
                    let hp = states + i * pn + row * n, hn = states + (i + 1) * pn + row * n
                    let input = dt * xv
                    // 16 states at a time (the two dot products would otherwise not vectorize), then the rest.
                    var gBLanes = Float32x16(), ghLanes = Float32x16()
                    var s = 0
                    while s + 16 <= n {
                        let gs = lanes(g + s) + dyv * lanes(ct + s)   // G_t[row, s ..< s+16]
                        store(lanes(pc + s) + dyv * lanes(hn + s), pc + s)
                        store(lanes(pb + s) + gs * input, pb + s)
                        gBLanes += gs * lanes(bt + s)
                        ghLanes += gs * lanes(hp + s)
                        store(gs * decayT, g + s)                    // the carry to t − 1
                        s += 16
                    }
                    var gB = gBLanes.sum(), gh = ghLanes.sum()
                    while s < n {
                        let gs = g[s] + dyv * ct[s]
                        pc[s] += dyv * hn[s]
                        pb[s] += gs * input
                        gB += gs * bt[s]
                        gh += gs * hp[s]
                        g[s] = gs * decayT
                        s += 1
                    }
                    sums.dD += dyv * xv
                    dxt[row] += dyv * d + dt * gB
                    xGB += xv * gB
                    stateDot += gh
                }
                let dLog = decayT * stateDot                        // ∂loss/∂(Δ_t·A)
                io.dDelta[t * h + head] += xGB + dLog * a
                sums.dA += dLog * dt
            }
        }
    }

    @inline(__always)
    static func lanes(_ p: UnsafePointer<Float>) -> Float32x16 { UnsafeRawPointer(p).loadUnaligned(as: Float32x16.self) }
    @inline(__always)
    static func lanes(_ p: UnsafeMutablePointer<Float>) -> Float32x16 { lanes(UnsafePointer(p)) }
    @inline(__always)
    static func store(_ v: Float32x16, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float32x16.self) }

    /// The slow twin: every state kept, the recurrence and its backward written literally in Double.
    public static func backwardReference(_ inputs: ScanInputs, groups: Int, initialState: Tensor,
                                         outputGradient dy: Tensor) -> ScanGradients {
        let (x, delta, A, B, C, D) = (inputs.x, inputs.delta, inputs.A, inputs.B, inputs.C, inputs.D)
        let shape = Shape(x: x, delta: delta, A: A, B: B, C: C, D: D, groups: groups, stateShape: initialState.shape)
        let (l, h, p, n) = (shape.length, shape.heads, shape.headDim, shape.stateSize)
        var g = ScanGradients(zerosFor: inputs, stateShape: initialState.shape)
        let (e, gn) = (h * p, groups * n)
        var dBSum = [Double](repeating: 0, count: l * gn), dCSum = dBSum
        for head in 0..<h {
            let group = head / (h / groups)
            let (a, d) = (Double(A.data[head]), Double(D.data[head]))
            func xv(_ t: Int, _ i: Int) -> Double { Double(x.data[t * e + head * p + i]) }
            func bv(_ t: Int, _ s: Int) -> Double { Double(B.data[t * gn + group * n + s]) }
            func cv(_ t: Int, _ s: Int) -> Double { Double(C.data[t * gn + group * n + s]) }
            // states[t] = h_t [P·N], t = 0 the initial state
            var states = [[Double]](repeating: [Double](repeating: 0, count: p * n), count: l + 1)
            for i in 0..<(p * n) { states[0][i] = Double(initialState.data[head * p * n + i]) }
            for t in 0..<l {
                let dt = Double(delta.data[t * h + head])
                for i in 0..<p { for s in 0..<n {
                    states[t + 1][i * n + s] = Foundation.exp(dt * a) * states[t][i * n + s] + dt * xv(t, i) * bv(t, s)
                }}
            }
            var carry = [Double](repeating: 0, count: p * n)
            var dAh = 0.0, dDh = 0.0
            for t in stride(from: l - 1, through: 0, by: -1) {
                let dt = Double(delta.data[t * h + head]), decay = Foundation.exp(dt * a)
                var dDeltaT = 0.0, stateDot = 0.0
                for i in 0..<p {
                    let g0 = Double(dy.data[t * e + head * p + i])
                    dDh += g0 * xv(t, i)
                    var gB = 0.0
                    for s in 0..<n {
                        let g = carry[i * n + s] + g0 * cv(t, s)
                        dCSum[t * gn + group * n + s] += g0 * states[t + 1][i * n + s]
                        dBSum[t * gn + group * n + s] += g * dt * xv(t, i)
                        gB += g * bv(t, s)
                        stateDot += g * states[t][i * n + s]
                        carry[i * n + s] = g * decay
                    }
                    g.x.data[t * e + head * p + i] += Float(g0 * d + dt * gB)
                    dDeltaT += xv(t, i) * gB
                }
                g.delta.data[t * h + head] += Float(dDeltaT + a * decay * stateDot)
                dAh += dt * decay * stateDot
            }
            g.A.data[head] += Float(dAh)
            g.D.data[head] += Float(dDh)
            for i in 0..<(p * n) { g.initialState.data[head * p * n + i] += Float(carry[i]) }
        }
        for i in 0..<(l * gn) { g.B.data[i] += Float(dBSum[i]); g.C.data[i] += Float(dCSum[i]) }
        return g
    }
}
