import Foundation

/// The selective scan of Mamba (S6), sequential over time and parallel over channels.
/// Legend: L length, E channels (d_inner), N d_state.
///   Ā = exp(Δ·A), h_t = Ā ⊙ h_{t−1} + (Δ_t·x_t) B_t,  y_t = ⟨h_t, C_t⟩ + D·x_t   (Mamba Eq. 2a–2b)
/// Inputs: x [L, E], delta [L, E] (already softplus'ed), A [E, N] (negative: −exp(A_log)),
/// B [L, N], C [L, N], D [E]. `state` [E, N] is h, carried in and out (HF's `ssm_state` layout).
public enum SelectiveScan {
    static let lanes = 16

    public static func forward(x: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor,
                               state: inout Tensor) -> Tensor {
        let (l, e, n) = (x.rows, x.columns, A.columns)
        precondition(delta.shape == x.shape && A.rows == e && B.shape == [l, n] && C.shape == [l, n]
                     && D.count == e && state.shape == [e, n], "SelectiveScan: shapes do not agree")
        var y = Tensor(zeros: [l, e])
        let blocks = (e + lanes - 1) / lanes
        x.data.withUnsafeBufferPointer { xp in
        delta.data.withUnsafeBufferPointer { dp in
        A.data.withUnsafeBufferPointer { ap in
        B.data.withUnsafeBufferPointer { bp in
        C.data.withUnsafeBufferPointer { cp in
        D.data.withUnsafeBufferPointer { skip in
        state.data.withUnsafeMutableBufferPointer { hp in
        y.data.withUnsafeMutableBufferPointer { yp in
            let io = ScanPointers(x: xp.baseAddress!, delta: dp.baseAddress!, A: ap.baseAddress!,
                                  B: bp.baseAddress!, C: cp.baseAddress!, D: skip.baseAddress!,
                                  state: hp.baseAddress!, y: yp.baseAddress!, length: l, channels: e, states: n)
            if l == 1 { return step(io) }
            Parallel.forEachRange(blocks) { range in
                for block in range { scanBlock(io, firstChannel: block * lanes) }
            }
        }}}}}}}}
        return y
    }

    struct ScanPointers: @unchecked Sendable {
        let x, delta, A, B, C, D: UnsafePointer<Float>
        let state, y: UnsafeMutablePointer<Float>
        let length, channels, states: Int
    }

    /// 16 channels at once, one lane per channel: every op of the recurrence is a 16-wide vector op.
    @inline(__always)
    static func scanBlock(_ io: ScanPointers, firstChannel c0: Int) {
        let (e, n) = (io.channels, io.states)
        let width = min(lanes, e - c0)
        let a = UnsafeMutablePointer<Float32x16>.allocate(capacity: n)
        let h = UnsafeMutablePointer<Float32x16>.allocate(capacity: n)
        defer { a.deallocate(); h.deallocate() }
        for s in 0..<n {
            var av = Float32x16(), hv = Float32x16()
            for lane in 0..<width {
                av[lane] = io.A[(c0 + lane) * n + s]
                hv[lane] = io.state[(c0 + lane) * n + s]
            }
            a[s] = av
            h[s] = hv
        }
        let d = vload(io.D + c0, width)
        for t in 0..<io.length {
            let row = t * e + c0
            let dt = vload(io.delta + row, width)
            let xv = vload(io.x + row, width)
            let dtx = dt * xv
            var yv = d * xv
            let bt = io.B + t * n, ct = io.C + t * n
            for s in 0..<n {
                let hs = vexp(dt * a[s]) * h[s] + dtx * bt[s]
                h[s] = hs
                yv += hs * ct[s]
            }
            vstore(yv, io.y + row, width)
        }
        for s in 0..<n {
            let hv = h[s]
            for lane in 0..<width { io.state[(c0 + lane) * n + s] = hv[lane] }
        }
    }

    /// The slow twin: the recurrence written literally, in Double.
    public static func reference(x: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor,
                                 state: inout Tensor) -> Tensor {
        let (l, e, n) = (x.rows, x.columns, A.columns)
        var y = Tensor(zeros: [l, e])
        for c in 0..<e {
            var h = (0..<n).map { Double(state.data[c * n + $0]) }
            for t in 0..<l {
                let dt = Double(delta.data[t * e + c]), xv = Double(x.data[t * e + c])
                var out = Double(D.data[c]) * xv
                for s in 0..<n {
                    h[s] = Foundation.exp(dt * Double(A.data[c * n + s])) * h[s] + dt * xv * Double(B.data[t * n + s])
                    out += h[s] * Double(C.data[t * n + s])
                }
                y.data[t * e + c] = Float(out)
            }
            for s in 0..<n { state.data[c * n + s] = Float(h[s]) }
        }
        return y
    }
}
