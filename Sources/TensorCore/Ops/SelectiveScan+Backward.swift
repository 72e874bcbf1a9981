import Foundation

/// Training side of the selective scan. Legend: L length, E channels, N d_state, K = ⌈L/chunk⌉.
///
/// Memory: the backward needs h_{t−1} and h_t at every step, but storing all L·E·N states is the
/// largest activation of the model. As the reference CUDA kernel does, the forward keeps only the
/// state at the start of every `chunk` steps (checkpoints [K, E, N]); the backward walks the chunks in
/// reverse and recomputes the states of one chunk at a time from its checkpoint. Memory is
/// O(L·E + K·E·N + chunk·N·16) per worker instead of O(L·E·N).
///
/// Gradients, with a_t = exp(Δ_t·A) and g_t = ∂loss/∂h_t (the carry from t+1 plus dy_t·C_t):
///   dC_t[s] += Σ_c dy_t[c]·h_t[c,s]          dD[c] += Σ_t dy_t[c]·x_t[c]
///   dB_t[s] += Σ_c g_t[c,s]·Δ_t[c]·x_t[c]     dx_t[c] += dy_t[c]·D[c] + Δ_t[c]·Σ_s g_t[c,s]·B_t[s]
///   dΔ_t[c] += x_t[c]·Σ_s g_t[c,s]·B_t[s] + Σ_s g_t[c,s]·h_{t−1}[c,s]·a_t[c,s]·A[c,s]
///   dA[c,s] += Σ_t g_t[c,s]·h_{t−1}[c,s]·a_t[c,s]·Δ_t[c]
///   carry g_{t−1} ← g_t ⊙ a_t;  d(initial state) += the carry left at t = 0.
extension SelectiveScan {
    /// `forward`, also returning the state at the start of every `chunk` steps ([K, E, N]).
    /// It runs `forward` chunk by chunk, so y and the final state are bit-identical to one call.
    public static func forwardSavingCheckpoints(_ inputs: ScanInputs, state: inout Tensor,
                                                chunk: Int) -> (y: Tensor, checkpoints: Tensor) {
        precondition(chunk > 0, "SelectiveScan: chunk must be positive")
        let (x, delta, A, B, C, D) = (inputs.x, inputs.delta, inputs.A, inputs.B, inputs.C, inputs.D)
        let (l, e, n) = (x.rows, x.columns, A.columns)
        let k = (l + chunk - 1) / chunk
        var checkpoints = [Float]()
        checkpoints.reserveCapacity(k * e * n)
        var parts: [Tensor] = []
        for begin in stride(from: 0, to: l, by: chunk) {
            let r = begin..<min(l, begin + chunk)
            checkpoints.append(contentsOf: state.data)
            parts.append(forward(x: x.rows(r), delta: delta.rows(r), A: A, B: B.rows(r), C: C.rows(r), D: D, state: &state))
        }
        let y = l == 0 ? Tensor(zeros: [0, e]) : Tensor.concatenateRows(parts)
        return (y, Tensor(shape: [k, e, n], data: checkpoints))
    }

    /// The gradients of every input and of the initial state (see the type's comment) from dy [L, E].
    public static func backward(_ inputs: ScanInputs, checkpoints: Tensor, chunk: Int,
                                outputGradient dy: Tensor) -> ScanGradients {
        let (l, e, n) = (inputs.x.rows, inputs.x.columns, inputs.A.columns)
        precondition(inputs.delta.shape == inputs.x.shape && dy.shape == inputs.x.shape && inputs.A.rows == e
                     && inputs.B.shape == [l, n] && inputs.C.shape == [l, n] && inputs.D.count == e
                     && checkpoints.shape == [(l + chunk - 1) / chunk, e, n],
                     "SelectiveScan.backward: shapes do not agree")
        var gradients = ScanGradients(zerosFor: inputs, stateShape: [e, n])
        guard l > 0 else { return gradients }
        let blocks = (e + lanes - 1) / lanes
        let lock = NSLock()
        gradients.withStorage(reading: inputs.tensors + [checkpoints, dy]) { input, output in
            let io = SendablePointer(ScanGradientPointers(input, output, length: l, channels: e, states: n, chunk: chunk))
            let (dB, dC) = (SendablePointer(output[3]), SendablePointer(output[4]))
            Parallel.forEachRange(blocks) { range in
                // dB and dC sum over channels, i.e. over blocks: each worker keeps 16-lane partial sums
                // [L, N] over its blocks and adds their lane sums to dB, dC once, under the lock.
                let partialB = UnsafeMutablePointer<Float32x16>.allocate(capacity: l * n)
                let partialC = UnsafeMutablePointer<Float32x16>.allocate(capacity: l * n)
                partialB.initialize(repeating: Float32x16(), count: l * n)
                partialC.initialize(repeating: Float32x16(), count: l * n)
                defer { partialB.deallocate(); partialC.deallocate() }
                for block in range {
                    scanBlockBackward(io.p, firstChannel: block * lanes, partialB: partialB, partialC: partialC)
                }
                lock.lock()
                for i in 0..<(l * n) {
                    dB.p[i] += partialB[i].sum()
                    dC.p[i] += partialC[i].sum()
                }
                lock.unlock()
            }
        }
        return gradients
    }

    /// The storage `backward` works on: the inputs (x, delta, A, B, C, D, checkpoints, dy) and the
    /// gradients (dx, dDelta, dA, dB, dC, dD, dState), in `ScanInputs`' and `ScanGradients`' order.
    struct ScanGradientPointers {
        let x, delta, A, B, C, D, checkpoints, dy: UnsafePointer<Float>
        let dx, dDelta, dA, dD, dState: UnsafeMutablePointer<Float>
        let length, channels, states, chunk: Int

        init(_ i: [UnsafePointer<Float>], _ o: [UnsafeMutablePointer<Float>], length: Int, channels: Int, states: Int, chunk: Int) {
            (x, delta, A, B, C, D, checkpoints, dy) = (i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7])
            (dx, dDelta, dA, dD, dState) = (o[0], o[1], o[2], o[5], o[6])
            (self.length, self.channels, self.states, self.chunk) = (length, channels, states, chunk)
        }
    }

    /// 16 channels, all time steps in reverse, one chunk at a time; lanes past E are zero throughout
    /// (x = Δ = dy = 0), so they add nothing to dB, dC.
    @inline(__always)
    static func scanBlockBackward(_ io: ScanGradientPointers, firstChannel c0: Int,
                                  partialB: UnsafeMutablePointer<Float32x16>, partialC: UnsafeMutablePointer<Float32x16>) {
        let (e, n, chunk) = (io.channels, io.states, io.chunk)
        let width = min(lanes, e - c0)
        let a = UnsafeMutablePointer<Float32x16>.allocate(capacity: n)
        let carry = UnsafeMutablePointer<Float32x16>.allocate(capacity: n)          // g_t flowing to t − 1
        let dAsum = UnsafeMutablePointer<Float32x16>.allocate(capacity: n)
        let h = UnsafeMutablePointer<Float32x16>.allocate(capacity: (chunk + 1) * n) // h at chunk steps 0…chunk
        let decay = UnsafeMutablePointer<Float32x16>.allocate(capacity: chunk * n)   // a_t of the chunk
        defer { a.deallocate(); carry.deallocate(); dAsum.deallocate(); h.deallocate(); decay.deallocate() }
        for s in 0..<n {
            var av = Float32x16()
            for lane in 0..<width { av[lane] = io.A[(c0 + lane) * n + s] }
            a[s] = av
            carry[s] = Float32x16()
            dAsum[s] = Float32x16()
        }
        let d = vload(io.D + c0, width)
        var dDsum = Float32x16()
        let chunks = (io.length + chunk - 1) / chunk
        for k in stride(from: chunks - 1, through: 0, by: -1) {
            let t0 = k * chunk, t1 = min(io.length, t0 + chunk)
            // Recompute h_{t0} … h_{t1} exactly as the forward does.
            let saved = io.checkpoints + k * e * n
            for s in 0..<n {
                var hv = Float32x16()
                for lane in 0..<width { hv[lane] = saved[(c0 + lane) * n + s] }
                h[s] = hv
            }
            for t in t0..<t1 {
                let i = t - t0, row = t * e + c0
                let dt = vload(io.delta + row, width)
                let dtx = dt * vload(io.x + row, width)
                let bt = io.B + t * n
                for s in 0..<n {
                    let av = vexp(dt * a[s])
                    decay[i * n + s] = av
                    h[(i + 1) * n + s] = av * h[i * n + s] + dtx * bt[s]
                }
            }
            // Walk the chunk backwards.
            for t in stride(from: t1 - 1, through: t0, by: -1) {
                let i = t - t0, row = t * e + c0
                let dt = vload(io.delta + row, width)
                let xv = vload(io.x + row, width)
                let dyv = vload(io.dy + row, width)
                let dtx = dt * xv
                dDsum += dyv * xv
                var gB = Float32x16(), dDecay = Float32x16()
                let bt = io.B + t * n, ct = io.C + t * n
                let pb = partialB + t * n, pc = partialC + t * n
                for s in 0..<n {
                    let g = carry[s] + dyv * ct[s]
                    pc[s] += dyv * h[(i + 1) * n + s]
                    pb[s] += g * dtx
                    gB += g * bt[s]
                    let av = decay[i * n + s]
                    let dLog = g * h[i * n + s] * av           // ∂loss/∂(Δ_t·A)
                    dAsum[s] += dLog * dt
                    dDecay += dLog * a[s]
                    carry[s] = g * av
                }
                vstore(vload(io.dx + row, width) + dyv * d + dt * gB, io.dx + row, width)
                vstore(vload(io.dDelta + row, width) + xv * gB + dDecay, io.dDelta + row, width)
            }
        }
        for s in 0..<n {
            let da = dAsum[s], dh = carry[s]
            for lane in 0..<width {
                io.dA[(c0 + lane) * n + s] += da[lane]
                io.dState[(c0 + lane) * n + s] += dh[lane]
            }
        }
        for lane in 0..<width { io.dD[c0 + lane] += dDsum[lane] }
    }

    /// The slow twin: every state kept, the same formulas in Double.
    public static func backwardReference(_ inputs: ScanInputs, initialState: Tensor, outputGradient dy: Tensor) -> ScanGradients {
        let (x, delta, A, B, C, D) = (inputs.x, inputs.delta, inputs.A, inputs.B, inputs.C, inputs.D)
        var g = ScanGradients(zerosFor: inputs, stateShape: initialState.shape)
        let (l, e, n) = (x.rows, x.columns, A.columns)
        var dBsum = [Double](repeating: 0, count: l * n), dCsum = dBsum
        for c in 0..<e {
            // states[t][s] = h_t, t = 0 the initial state
            var states = [[Double]](repeating: [Double](repeating: 0, count: n), count: l + 1)
            for s in 0..<n { states[0][s] = Double(initialState.data[c * n + s]) }
            for t in 0..<l {
                let dt = Double(delta.data[t * e + c]), xv = Double(x.data[t * e + c])
                for s in 0..<n {
                    states[t + 1][s] = Foundation.exp(dt * Double(A.data[c * n + s])) * states[t][s] + dt * xv * Double(B.data[t * n + s])
                }
            }
            var carry = [Double](repeating: 0, count: n)
            var dAc = [Double](repeating: 0, count: n), dDc = 0.0
            for t in stride(from: l - 1, through: 0, by: -1) {
                let dt = Double(delta.data[t * e + c]), xv = Double(x.data[t * e + c]), g0 = Double(dy.data[t * e + c])
                dDc += g0 * xv
                var gB = 0.0, dDecay = 0.0
                for s in 0..<n {
                    let aS = Double(A.data[c * n + s])
                    let g = carry[s] + g0 * Double(C.data[t * n + s])
                    dCsum[t * n + s] += g0 * states[t + 1][s]
                    dBsum[t * n + s] += g * dt * xv
                    gB += g * Double(B.data[t * n + s])
                    let av = Foundation.exp(dt * aS)
                    let dLog = g * states[t][s] * av
                    dAc[s] += dLog * dt
                    dDecay += dLog * aS
                    carry[s] = g * av
                }
                g.x.data[t * e + c] += Float(g0 * Double(D.data[c]) + dt * gB)
                g.delta.data[t * e + c] += Float(xv * gB + dDecay)
            }
            for s in 0..<n {
                g.A.data[c * n + s] += Float(dAc[s])
                g.initialState.data[c * n + s] += Float(carry[s])
            }
            g.D.data[c] += Float(dDc)
        }
        for i in 0..<(l * n) { g.B.data[i] += Float(dBsum[i]); g.C.data[i] += Float(dCsum[i]) }
        return g
    }
}
