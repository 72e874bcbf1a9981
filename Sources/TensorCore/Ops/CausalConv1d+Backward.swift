/// Backward of `CausalConv1d.forward`, same argument order, accumulating (+=). With the window
/// win = (k−1 inputs of the initial state) ++ x, the forward is y[t, c] = b[c] + Σ_j w[c, j]·win[t + j, c], so
///   dx[t, c] += Σ_j w[c, j] · dy[t + (k−1) − j, c]     (terms with t + (k−1) − j < L)
///   dw[c, j] += Σ_t dy[t, c] · win[t + j, c]
///   db[c]    += Σ_t dy[t, c]
/// `initialState` [E, k] is the state the forward started from (zeros for a fresh sequence); the
/// gradient with respect to it is not computed. Shapes: x, dy, dx [L, E], w, dw [E, k], b, db [E].
extension CausalConv1d {
    public static func backward(_ x: Tensor, weight: Tensor, initialState: Tensor, outputGradient dy: Tensor,
                                inputGradient dx: inout Tensor, weightGradient dWeight: inout Tensor,
                                biasGradient dBias: inout Tensor?) {
        let (l, e) = (x.rows, x.columns)
        let k = weight.columns
        precondition(weight.rows == e && initialState.shape == [e, k] && dy.shape == x.shape && dx.shape == x.shape
                     && dWeight.shape == weight.shape, "CausalConv1d.backward: shapes do not agree")
        guard l > 0 else { return }
        var window = [Float](repeating: 0, count: (k - 1 + l) * e)
        for j in 0..<(k - 1) { for c in 0..<e { window[j * e + c] = initialState.data[c * k + j + 1] } }
        window.replaceSubrange(((k - 1) * e)..<((k - 1 + l) * e), with: x.data)
        let wT = transposed(weight.data, rows: e, columns: k)        // [k, E]
        var dwT = [Float](repeating: 0, count: k * e)                // [k, E]
        var db = [Float](repeating: 0, count: e)
        window.withUnsafeBufferPointer { win in
        wT.withUnsafeBufferPointer { w in
        dy.data.withUnsafeBufferPointer { g in
        dx.data.withUnsafeMutableBufferPointer { out in
        dwT.withUnsafeMutableBufferPointer { dw in
            for t in 0..<l {
                let gt = g.baseAddress! + t * e
                for c in 0..<e { db[c] += gt[c] }
                for j in 0..<k {
                    let input = win.baseAddress! + (t + j) * e, wj = w.baseAddress! + j * e
                    let dwj = dw.baseAddress! + j * e
                    for c in 0..<e { dwj[c] += gt[c] * input[c] }
                    // window row t + j is x row t + j − (k−1) when that is ≥ 0
                    let s = t + j - (k - 1)
                    if s >= 0 {
                        let o = out.baseAddress! + s * e
                        for c in 0..<e { o[c] += wj[c] * gt[c] }
                    }
                }
            }
        }}}}}
        for c in 0..<e { for j in 0..<k { dWeight.data[c * k + j] += dwT[j * e + c] } }
        if dBias != nil { for c in 0..<e { dBias!.data[c] += db[c] } }
    }
}
