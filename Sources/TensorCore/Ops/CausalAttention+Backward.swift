/// Causal grouped-query self-attention over a whole sequence from position 0 (training: queries, keys and
/// values all [L, ·], no cache), forward and backward side by side. Per query head h reading key/value
/// head j = h / (H/G) (transformers' `repeat_kv`), with s = 1/√P and the causal mask (key ≤ query):
///   S = s·Q_h·K_jᵀ [L, L],   P = softmax(S) over the visible keys,   O_h = P·V_j          (Vaswani et al. 2017, Eq. 1)
/// Backward (dO_h given; the softmax's Jacobian diag(p) − p·pᵀ per row):
///   dV_j += Pᵀ·dO_h,   dP = dO_h·V_jᵀ,   dS = P ⊙ (dP − rowsum(dP ⊙ P)),
///   dQ_h = s·dS·K_j,   dK_j += s·dSᵀ·Q_h
/// P is not kept between the two passes ([H, L, L] floats per layer): the backward recomputes it per head
/// (one more Q·Kᵀ), as FlashAttention's backward does. Key/value heads are spread over the workers (each
/// owns its dK_j, dV_j and its query heads' dQ_h columns, so no two workers write the same element).
/// Legend: L length, H query heads, G key/value heads, P head_dim.
extension CausalAttention {
    /// queries [L, H·P], keys and values [L, G·P] → [L, H·P]: `forward` over a cache holding exactly these keys.
    public static func forward(queries: Tensor, keys: Tensor, values: Tensor, heads: Int) -> Tensor {
        let g = keys.columns / (queries.columns / heads)
        return forward(queries: queries, keys: headColumns(keys, heads: g), values: headColumns(values, heads: g), heads: heads, first: 0)
    }

    /// The gradients of `forward(queries:keys:values:heads:)`'s inputs: dOut [L, H·P] → (dQ [L, H·P], dK, dV [L, G·P]).
    public static func backward(queries: Tensor, keys: Tensor, values: Tensor, heads: Int,
                                outputGradient: Tensor) -> (queries: Tensor, keys: Tensor, values: Tensor) {
        let l = queries.rows, p = queries.columns / heads, g = keys.columns / p
        precondition(heads % g == 0 && keys.shape == [l, g * p] && values.shape == keys.shape && outputGradient.shape == queries.shape,
                     "CausalAttention.backward: queries \(queries.shape), keys \(keys.shape), values \(values.shape), "
                     + "dOut \(outputGradient.shape), \(heads) heads")
        let scale = 1 / Float(p).squareRoot()
        let (keyHeads, valueHeads) = (headColumns(keys, heads: g), headColumns(values, heads: g))
        var dq = Tensor(zeros: queries.shape), dk = Tensor(zeros: keys.shape), dv = Tensor(zeros: keys.shape)
        dq.data.withUnsafeMutableBufferPointer { dqp in
        dk.data.withUnsafeMutableBufferPointer { dkp in
        dv.data.withUnsafeMutableBufferPointer { dvp in
            let out = (q: SendablePointer(dqp.baseAddress!), k: SendablePointer(dkp.baseAddress!), v: SendablePointer(dvp.baseAddress!))
            Parallel.forEachRange(g) { range in
                var probabilities = [Float](repeating: 0, count: l * l), dScores = [Float](repeating: 0, count: l * l)
                var dKey = [Float](repeating: 0, count: l * p), dValue = [Float](repeating: 0, count: l * p)
                var dQuery = [Float](repeating: 0, count: l * p)
                for j in range {
                    for i in 0..<(l * p) { dKey[i] = 0; dValue[i] = 0 }
                    for h in (j * (heads / g))..<((j + 1) * (heads / g)) {
                        let query = column(queries, head: h, width: p), dOut = column(outputGradient, head: h, width: p)
                        // P = softmax(s·Q·Kᵀ), causal.
                        BLAS.gemm(m: l, n: l, k: p, a: query, b: keyHeads[j], transposeB: true, c: &probabilities, alpha: scale)
                        probabilities.withUnsafeMutableBufferPointer { pp in
                            for row in 0..<l { softmaxPrefix(pp.baseAddress! + row * l, visible: row + 1, count: l) }
                        }
                        // dV_j += Pᵀ·dO, dP = dO·V_jᵀ.
                        gemm(l, p, l, probabilities, dOut, into: &dValue, transposeA: true, accumulate: true)
                        BLAS.gemm(m: l, n: l, k: p, a: dOut, b: valueHeads[j], transposeB: true, c: &dScores)
                        // dS = P ⊙ (dP − Σ_k dP·P), in place over dP; masked entries have P = 0, so dS = 0 there.
                        for row in 0..<l {
                            var dot: Float = 0
                            for k in 0...row { dot += dScores[row * l + k] * probabilities[row * l + k] }
                            for k in 0..<l { dScores[row * l + k] = probabilities[row * l + k] * (dScores[row * l + k] - dot) }
                        }
                        // dQ_h = s·dS·K_j, dK_j += s·dSᵀ·Q_h.
                        gemm(l, p, l, dScores, keyHeads[j], into: &dQuery, scale: scale)
                        gemm(l, p, l, dScores, query, into: &dKey, transposeA: true, scale: scale, accumulate: true)
                        for row in 0..<l { for i in 0..<p { out.q.p[row * heads * p + h * p + i] = dQuery[row * p + i] } }
                    }
                    for row in 0..<l {
                        for i in 0..<p {
                            out.k.p[row * g * p + j * p + i] = dKey[row * p + i]
                            out.v.p[row * g * p + j * p + i] = dValue[row * p + i]
                        }
                    }
                }
            }
        }}}
        return (dq, dk, dv)
    }

    /// [L, G·P] → G arrays [L, P] (the cache's layout: one contiguous array per head).
    static func headColumns(_ x: Tensor, heads: Int) -> [[Float]] {
        let p = x.columns / heads
        return (0..<heads).map { column(x, head: $0, width: p) }
    }

    /// Head `head`'s columns of x [L, heads·width] as one [L, width] array.
    static func column(_ x: Tensor, head: Int, width p: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.rows * p)
        let columns = x.columns
        for row in 0..<x.rows { for i in 0..<p { out[row * p + i] = x.data[row * columns + head * p + i] } }
        return out
    }

    /// c [m, n] = scale·op(a)·b (+ c when `accumulate`), op(a) = aᵀ when `transposeA` (a stored [k, m]).
    static func gemm(_ m: Int, _ n: Int, _ k: Int, _ a: [Float], _ b: [Float], into c: inout [Float],
                     transposeA: Bool = false, scale: Float = 1, accumulate: Bool = false) {
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    BLAS.gemm(m: m, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!, transposeB: false, c: cp.baseAddress!,
                              alpha: scale, beta: accumulate ? 1 : 0, transposeA: transposeA)
                }
            }
        }
    }
}
