import Foundation

/// Rotary position embeddings as Hugging Face Llama applies them (`rotate_half`: dimension i is paired
/// with i + P/2, not with its neighbour). Legend: L rows, H heads, P head_dim, F = P/2 frequencies.
/// Angles are computed in Float32 as transformers does (`position.float() * inv_freq`), so the
/// rounding of large positions matches.
public enum RotaryEmbedding {
    /// x [L, H·P], row t at position `firstPosition + t`, rotated in place by `inverseFrequencies` [F].
    public static func apply(_ x: inout Tensor, heads: Int, firstPosition: Int, inverseFrequencies: [Float]) {
        let f = inverseFrequencies.count, p = 2 * f
        precondition(x.columns == heads * p, "RotaryEmbedding: \(x.shape) is not \(heads) heads of \(p)")
        var cosines = [Float](repeating: 0, count: f), sines = [Float](repeating: 0, count: f)
        let rows = x.rows
        x.data.withUnsafeMutableBufferPointer { xp in
            for t in 0..<rows {
                let position = Float(firstPosition + t)
                for i in 0..<f {
                    let angle = position * inverseFrequencies[i]
                    cosines[i] = Foundation.cos(angle)
                    sines[i] = Foundation.sin(angle)
                }
                for h in 0..<heads {
                    let head = xp.baseAddress! + t * heads * p + h * p
                    for i in 0..<f {
                        let (a, b) = (head[i], head[i + f])
                        head[i] = a * cosines[i] - b * sines[i]
                        head[i + f] = b * cosines[i] + a * sines[i]
                    }
                }
            }
        }
    }

    /// The slow twin: a complex rotation per pair, in Double.
    public static func reference(_ x: Tensor, heads: Int, firstPosition: Int, inverseFrequencies: [Float]) -> Tensor {
        let f = inverseFrequencies.count, p = 2 * f
        var y = x
        for t in 0..<x.rows {
            for h in 0..<heads {
                for i in 0..<f {
                    let angle = Double(Float(firstPosition + t) * inverseFrequencies[i])
                    let base = t * heads * p + h * p
                    let (a, b) = (Double(x.data[base + i]), Double(x.data[base + i + f]))
                    y.data[base + i] = Float(a * Foundation.cos(angle) - b * Foundation.sin(angle))
                    y.data[base + i + f] = Float(b * Foundation.cos(angle) + a * Foundation.sin(angle))
                }
            }
        }
        return y
    }
}
