import Foundation

/// Rotary embeddings and causal grouped-query attention in Double, written literally (the ops' slow twins are
/// Float in, Float out; these stay in Double so finite differences measure the Float32 backward's own error).
extension DoubleOps {
    /// x [L, heads·P], row t at position t: each pair (i, i + P/2) of a head rotated by t·f_i (HF's rotate_half).
    /// The angle is formed in Float, as the op and transformers do, so both sides rotate by the same angle.
    public static func rotary(_ x: [Double], rows l: Int, heads: Int, inverseFrequencies: [Float]) -> [Double] {
        let f = inverseFrequencies.count, p = 2 * f
        var y = x
        for t in 0..<l {
            for h in 0..<heads {
                for i in 0..<f {
                    let angle = Double(Float(t) * inverseFrequencies[i])
                    let base = t * heads * p + h * p
                    let (a, b) = (x[base + i], x[base + i + f])
                    y[base + i] = a * cos(angle) - b * sin(angle)
                    y[base + i + f] = b * cos(angle) + a * sin(angle)
                }
            }
        }
        return y
    }

    /// softmax(q·kᵀ/√P, causal)·v per query head h over key/value head h / (H/G): q [L, H·P], k and v [L, G·P] → [L, H·P].
    public static func causalAttention(_ q: [Double], _ k: [Double], _ v: [Double], rows l: Int, heads: Int, keyValueHeads g: Int) -> [Double] {
        let p = q.count / (l * heads)
        var out = [Double](repeating: 0, count: l * heads * p)
        for h in 0..<heads {
            let j = h / (heads / g)
            for t in 0..<l {
                var scores = [Double](repeating: 0, count: t + 1)
                for s in 0...t {
                    var dot = 0.0
                    for i in 0..<p { dot += q[t * heads * p + h * p + i] * k[s * g * p + j * p + i] }
                    scores[s] = dot / Double(p).squareRoot()
                }
                let maximum = scores.max()!
                let weights = scores.map { exp($0 - maximum) }
                let total = weights.reduce(0, +)
                for i in 0..<p {
                    var sum = 0.0
                    for s in 0...t { sum += weights[s] * v[s * g * p + j * p + i] }
                    out[t * heads * p + h * p + i] = sum / total
                }
            }
        }
        return out
    }
}
