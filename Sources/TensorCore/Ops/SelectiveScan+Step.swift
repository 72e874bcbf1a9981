/// One position of the selective scan (decoding), in the state's own layout [E, N]: for each channel c,
///   h[c, :] ← exp(Δ_c·A[c, :]) ⊙ h[c, :] + (Δ_c·x_c)·B,   y_c = ⟨h[c, :], C⟩ + D_c·x_c   (Mamba Eq. 2a–2b)
/// 16 states at a time, so nothing is transposed (the multi-position scan vectorizes across channels
/// instead). y is summed state by state in order, the multi-position scan's arithmetic exactly, so a
/// prompt split anywhere gives bit-identical results. Channels are split across the workers when there
/// are enough of them to pay for a hand-off.
extension SelectiveScan {
    static func step(_ io: ScanPointers) {
        let (e, n) = (io.channels, io.states)
        Parallel.forEachRange(e, granularity: e * n < 1 << 16 ? e : 256) { channels in
            for c in channels { stepChannel(io, c, n) }
        }
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
            let hv = vexp(dt * load(a + s, width)) * load(h + s, width) + dtx * load(io.B + s, width)
            store(hv, h + s, width)
            let terms = hv * load(io.C + s, width)
            for lane in 0..<width { y += terms[lane] }
            s += lanes
        }
        io.y[c] = y
    }
}
