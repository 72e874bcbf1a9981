/// Depthwise causal convolution over time, channels last (E d_inner, L length, k kernel width).
/// out[t, c] = b[c] + Σ_j w[c, j] · in[t − (k−1) + j, c], where inputs before t = 0 come from `state`.
/// `state` [E, k] holds the last k inputs seen (column k−1 the newest), as Hugging Face's `conv_state`;
/// it is updated so that a sequence processed in pieces gives the same result as in one go.
public enum CausalConv1d {
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, state: inout Tensor) -> Tensor {
        let (l, e) = (x.rows, x.columns)
        let k = weight.columns
        precondition(weight.rows == e && state.shape == [e, k], "CausalConv1d: x \(x.shape), w \(weight.shape), state \(state.shape)")
        if l == 0 { return Tensor(zeros: [0, e]) }
        if l == 1 { return step(x, weight: weight, bias: bias, state: &state) }
        // History window: the k−1 previous inputs, time-major [k−1+L, E], so every loop runs over channels.
        var window = [Float](repeating: 0, count: (k - 1 + l) * e)
        for j in 0..<(k - 1) { for c in 0..<e { window[j * e + c] = state.data[c * k + j + 1] } }
        window.replaceSubrange(((k - 1) * e)..<((k - 1 + l) * e), with: x.data)
        var y = Tensor(zeros: [l, e])
        let wT = transposed(weight.data, rows: e, columns: k)
        window.withUnsafeBufferPointer { win in
            wT.withUnsafeBufferPointer { w in
                y.data.withUnsafeMutableBufferPointer { out in
                    Parallel.forEachRange(l, granularity: 64) { range in
                        for t in range {
                            let o = out.baseAddress! + t * e
                            if let bias { for c in 0..<e { o[c] = bias.data[c] } }
                            for j in 0..<k {
                                let input = win.baseAddress! + (t + j) * e
                                let wj = w.baseAddress! + j * e
                                for c in 0..<e { o[c] += wj[c] * input[c] }
                            }
                        }
                    }
                }
            }
        }
        // New state: the last k inputs of (old state ++ x); window index i holds sequence index i + 1.
        for j in 0..<k { for c in 0..<e { state.data[c * k + j] = window[(l + j - 1) * e + c] } }
        return y
    }

    /// One position (decoding): the window is the state itself, so nothing is allocated or transposed; each
    /// channel's sum runs in `forward`'s order (bias, then tap by tap), so the results are the same bit for bit.
    static func step(_ x: Tensor, weight: Tensor, bias: Tensor?, state: inout Tensor) -> Tensor {
        var y = Tensor(zeros: [1, x.columns])
        x.data.withUnsafeBufferPointer { input in
        state.data.withUnsafeMutableBufferPointer { history in
        y.data.withUnsafeMutableBufferPointer { out in
            step(input.baseAddress!, weight: weight, bias: bias, state: history.baseAddress!, into: out.baseAddress!)
        }}}
        return y
    }

    /// The same on pointers: x [E] → out [E], state [E, k] updated; weight [E, k], bias [E].
    public static func step(_ x: UnsafePointer<Float>, weight: Tensor, bias: Tensor?, state: UnsafeMutablePointer<Float>,
                            into out: UnsafeMutablePointer<Float>) {
        let (e, k) = (weight.rows, weight.columns)
        weight.data.withUnsafeBufferPointer { w in
        bias.withUnsafePointer { b in
            for c in 0..<e {
                let row = state + c * k, taps = w.baseAddress! + c * k
                var sum: Float = b?[c] ?? 0
                for j in 0..<(k - 1) { sum += taps[j] * row[j + 1] }
                sum += taps[k - 1] * x[c]
                for j in 0..<(k - 1) { row[j] = row[j + 1] }
                row[k - 1] = x[c]
                out[c] = sum
            }
        }}
    }

    /// The slow twin: builds the full padded sequence and convolves channel by channel.
    public static func reference(_ x: Tensor, weight: Tensor, bias: Tensor?, state: inout Tensor) -> Tensor {
        let (l, e) = (x.rows, x.columns)
        let k = weight.columns
        var y = Tensor(zeros: [l, e])
        for c in 0..<e {
            var sequence = (0..<k).map { state.data[c * k + $0] }
            sequence.append(contentsOf: (0..<l).map { x.data[$0 * e + c] })
            for t in 0..<l {
                var s = bias?.data[c] ?? 0
                for j in 0..<k { s += weight.data[c * k + j] * sequence[t + 1 + j] }
                y.data[t * e + c] = s
            }
            for j in 0..<k { state.data[c * k + j] = sequence[sequence.count - k + j] }
        }
        return y
    }

    static func transposed(_ m: [Float], rows: Int, columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: m.count)
        for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = m[r * columns + c] } }
        return out
    }
}
