import Foundation

/// Scaled dot-product attention with a causal mask over a key/value cache, grouped-query style
/// (`torch.nn.functional.scaled_dot_product_attention(is_causal)` with `repeat_kv`).
/// Legend: T new rows, S cached positions (S ≥ first + T), H query heads, G key/value heads (H a
/// multiple of G; query head h reads key/value head h / (H/G)), P head_dim.
/// Both products of each head are OpenBLAS sgemms; for one row (decoding) q·Kᵀ is a gemv and p·V a
/// streamed sum of value rows (sgemm with one row packs the whole cache first, measured 5× slower).
/// Heads are spread over the workers.
public enum CausalAttention {
    /// - Parameters:
    ///   - queries: [T, H·P]; row t is the query of absolute position `first + t`.
    ///   - keys, values: G arrays, each [S, P] row-major (positions 0..<S).
    ///   - first: position of the first query row; row t attends to positions 0...first + t.
    /// - Returns: [T, H·P].
    public static func forward(queries: Tensor, keys: [[Float]], values: [[Float]], heads: Int, first: Int) -> Tensor {
        let (t, g) = (queries.rows, keys.count)
        let p = queries.columns / heads
        let s = keys[0].count / p
        precondition(heads % g == 0 && queries.columns == heads * p && s >= first + t && values.count == g,
                     "CausalAttention: queries \(queries.shape), \(heads) heads over \(g) cached heads of \(s) positions from \(first)")
        let scale = 1 / Float(p).squareRoot()
        var out = Tensor(zeros: [t, heads * p])
        queries.data.withUnsafeBufferPointer { qp in
            out.data.withUnsafeMutableBufferPointer { op in
                let (q, o) = (SendablePointer(qp.baseAddress!), SendablePointer(op.baseAddress!))
                Parallel.forEachRange(heads) { range in
                    var query = [Float](repeating: 0, count: t * p), head = [Float](repeating: 0, count: t * p)
                    var scores = [Float](repeating: 0, count: t * s)
                    for h in range {
                        let kv = h / (heads / g)
                        for row in 0..<t { for i in 0..<p { query[row * p + i] = q.p[row * heads * p + h * p + i] } }
                        keys[kv].withUnsafeBufferPointer { kp in
                            if t == 1 {
                                BLAS.gemv(m: s, n: p, a: kp.baseAddress!, x: query, y: &scores, alpha: scale)
                            } else {
                                BLAS.gemm(m: t, n: s, k: p, a: query, b: kp.baseAddress!, transposeB: true, c: &scores, alpha: scale)
                            }
                        }
                        scores.withUnsafeMutableBufferPointer { sp in
                            for row in 0..<t { softmaxPrefix(sp.baseAddress! + row * s, visible: first + row + 1, count: s) }
                        }
                        values[kv].withUnsafeBufferPointer { vp in
                            if t == 1 {
                                weightedRowSum(scores, vp.baseAddress!, rows: s, columns: p, into: &head)
                            } else {
                                BLAS.gemm(m: t, n: p, k: s, a: scores, b: vp.baseAddress!, transposeB: false, c: &head)
                            }
                        }
                        for row in 0..<t { for i in 0..<p { o.p[row * heads * p + h * p + i] = head[row * p + i] } }
                    }
                }
            }
        }
        return out
    }

    /// out[0..<columns] = Σ_j weights[j] · matrix[j, :] (one query row's p·V, streaming V once).
    static func weightedRowSum(_ weights: [Float], _ matrix: UnsafePointer<Float>, rows: Int, columns: Int, into out: inout [Float]) {
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<columns { o[i] = 0 }
            for j in 0..<rows where weights[j] != 0 {
                let w = weights[j], row = matrix + j * columns
                for i in 0..<columns { o[i] += w * row[i] }
            }
        }
    }

    /// Softmax of the first `visible` values of a row, in place; the rest of the `count` become 0 (the mask).
    static func softmaxPrefix(_ row: UnsafeMutablePointer<Float>, visible: Int, count: Int) {
        var maximum = -Float.infinity
        for j in 0..<visible { maximum = Swift.max(maximum, row[j]) }
        var sum: Float = 0
        var j = 0
        while j < visible {
            var lanes = Float32x16(repeating: -Float.infinity)
            let n = Swift.min(16, visible - j)
            for i in 0..<n { lanes[i] = row[j + i] }
            let e = vexp(lanes - maximum)
            for i in 0..<n { row[j + i] = e[i]; sum += e[i] }
            j += 16
        }
        let inverse = 1 / sum
        for j in 0..<visible { row[j] *= inverse }
        for j in visible..<count { row[j] = 0 }
    }

    /// The slow twin: explicit loops in Double, every key of the causal window.
    public static func reference(queries: Tensor, keys: [[Float]], values: [[Float]], heads: Int, first: Int) -> Tensor {
        let (t, g) = (queries.rows, keys.count)
        let p = queries.columns / heads
        var out = Tensor(zeros: [t, heads * p])
        for h in 0..<heads {
            let kv = h / (heads / g)
            for row in 0..<t {
                let visible = first + row + 1
                var scores = [Double](repeating: 0, count: visible)
                for j in 0..<visible {
                    var dot = 0.0
                    for i in 0..<p { dot += Double(queries.data[row * heads * p + h * p + i]) * Double(keys[kv][j * p + i]) }
                    scores[j] = dot / Double(p).squareRoot()
                }
                let maximum = scores.max()!
                let weights = scores.map { Foundation.exp($0 - maximum) }
                let total = weights.reduce(0, +)
                for i in 0..<p {
                    var sum = 0.0
                    for j in 0..<visible { sum += weights[j] * Double(values[kv][j * p + i]) }
                    out.data[row * heads * p + h * p + i] = Float(sum / total)
                }
            }
        }
        return out
    }
}
