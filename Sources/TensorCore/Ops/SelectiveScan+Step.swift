/// One position of the selective scan (decoding), in the state's own layout [E, N]: for each channel c,
///   h[c, :] ← exp(Δ_c·A[c, :]) ⊙ h[c, :] + (Δ_c·x_c)·B,   y_c = ⟨h[c, :], C⟩ + D_c·x_c   (Mamba Eq. 2a–2b)
/// 16 states at a time, so h is not transposed (the multi-position scan vectorizes across channels
/// instead). y is summed state by state in order, the multi-position scan's arithmetic exactly, so a
/// prompt split anywhere gives bit-identical results. Channels are split across the workers when there
/// are enough of them to pay for a hand-off.
extension SelectiveScan {
    static func step(_ io: ScanPointers) {
        let (e, n) = (io.channels, io.states)
        Parallel.forEachRange(e, granularity: e * n < 1 << 16 ? e : 256) { stepChannels(io, $0) }
    }

    /// One position of one sequence on pointers (a model's decode step): x, Δ, y [E], B, C [N] (read in place
    /// from x_proj's output row), state [E, N]; A [E, N], D [E]. `acrossWorkers`: split the channels over the
    /// workers (one sequence); false when the caller already runs sequences in parallel.
    public static func step(x: UnsafePointer<Float>, delta: UnsafePointer<Float>, A: Tensor, B: UnsafePointer<Float>,
                            C: UnsafePointer<Float>, D: Tensor, state: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
                            acrossWorkers: Bool) {
        A.data.withUnsafeBufferPointer { a in
        D.data.withUnsafeBufferPointer { skip in
            let io = ScanPointers(x: x, delta: delta, A: a.baseAddress!, B: B, C: C, D: skip.baseAddress!, state: state, y: y,
                                  length: 1, channels: A.rows, states: A.columns)
            if acrossWorkers { step(io) } else { stepChannels(io, 0..<A.rows) }
        }}
    }

    @inline(__always)
    static func stepChannels(_ io: ScanPointers, _ channels: Range<Int>) {
        var c = channels.lowerBound
        if io.states == lanes { while c + lanes <= channels.upperBound { stepSixteenChannels(io, c); c += lanes } }
        while c < channels.upperBound { stepChannel(io, c, io.states); c += 1 }
    }

    @inline(__always)
    static func stepChannel(_ io: ScanPointers, _ c: Int, _ n: Int) {
        let dt = io.delta[c], xv = io.x[c]
        let dtx = dt * xv
        let a = io.A + c * n, h = io.state + c * n
        var y = io.D[c] * xv
        var s = 0
        while s < n {
            let width = min(lanes, n - s)
            let hv = vexp(dt * vload(a + s, width)) * vload(h + s, width) + dtx * vload(io.B + s, width)
            vstore(hv, h + s, width)
            let terms = hv * vload(io.C + s, width)
            for lane in 0..<width { y += terms[lane] }
            s += lanes
        }
        io.y[c] = y
    }

    /// Channels c0 ..< c0 + 16 of a 16-state scan: each channel's products h ⊙ C are one vector over its states;
    /// transposed, row s holds state s of every channel, so y (one lane per channel) adds them state by state
    /// in vector adds — the order `stepChannel` adds them in, without its chain of 16 dependent scalar adds.
    @inline(__always)
    static func stepSixteenChannels(_ io: ScanPointers, _ c0: Int) {
        let bv = vload(io.B, lanes), cv = vload(io.C, lanes)
        withUnsafeTemporaryAllocation(of: Float32x16.self, capacity: 2 * lanes) { buffer in
            let terms = buffer.baseAddress!
            for i in 0..<lanes {
                let c = c0 + i, dt = io.delta[c]
                let h = io.state + c * lanes
                let hv = vexp(dt * vload(io.A + c * lanes, lanes)) * vload(h, lanes) + (dt * io.x[c]) * bv
                vstore(hv, h, lanes)
                terms[i] = hv * cv
            }
            transpose(terms, scratch: terms + lanes)
            var y = vload(io.D + c0, lanes) * vload(io.x + c0, lanes)
            for s in 0..<lanes { y += terms[s] }
            vstore(y, io.y + c0, lanes)
        }
    }

    /// A 16 × 16 block in place, in four perfect shuffles: each sends element (r, c), written in bits r₃r₂r₁r₀ and
    /// c₃c₂c₁c₀, to row c₀r₃r₂r₁, column r₀c₃c₂c₁ (the even or odd halves of rows 2i and 2i + 1), so four of them
    /// send it to (c, r).
    @inline(__always)
    static func transpose(_ rows: UnsafeMutablePointer<Float32x16>, scratch: UnsafeMutablePointer<Float32x16>) {
        var (from, to) = (rows, scratch)
        for _ in 0..<4 {
            for i in 0..<8 {
                to[i] = Float32x16(lowHalf: from[2 * i].evenHalf, highHalf: from[2 * i + 1].evenHalf)
                to[8 + i] = Float32x16(lowHalf: from[2 * i].oddHalf, highHalf: from[2 * i + 1].oddHalf)
            }
            swap(&from, &to)
        }
    }
}
