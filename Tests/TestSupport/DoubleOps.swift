import Foundation

/// The ops of TensorCore in Double, written literally (row-major, same shapes as the Float ops).
public enum DoubleOps {
    public static func linear(_ x: [Double], _ w: [Double], _ b: [Double]?, rows l: Int, inFeatures: Int, outFeatures: Int) -> [Double] {
        var y = [Double](repeating: 0, count: l * outFeatures)
        for t in 0..<l {
            for o in 0..<outFeatures {
                var s = b?[o] ?? 0
                for i in 0..<inFeatures { s += x[t * inFeatures + i] * w[o * inFeatures + i] }
                y[t * outFeatures + o] = s
            }
        }
        return y
    }

    public static func rmsNorm(_ x: [Double], _ w: [Double], epsilon: Double, rows l: Int) -> [Double] {
        let d = w.count
        var y = x
        for t in 0..<l {
            var s = 0.0
            for i in 0..<d { s += x[t * d + i] * x[t * d + i] }
            let r = 1 / (s / Double(d) + epsilon).squareRoot()
            for i in 0..<d { y[t * d + i] = x[t * d + i] * r * w[i] }
        }
        return y
    }

    /// state [E, k]: the last k inputs before x (column k−1 the newest), as CausalConv1d.
    public static func conv(_ x: [Double], _ w: [Double], _ b: [Double]?, state: [Double], rows l: Int, channels e: Int, kernel k: Int) -> [Double] {
        var y = [Double](repeating: 0, count: l * e)
        for c in 0..<e {
            var sequence = (0..<k).map { state[c * k + $0] }
            sequence.append(contentsOf: (0..<l).map { x[$0 * e + c] })
            for t in 0..<l {
                var s = b?[c] ?? 0
                for j in 0..<k { s += w[c * k + j] * sequence[t + 1 + j] }
                y[t * e + c] = s
            }
        }
        return y
    }

    public static func silu(_ x: Double) -> Double { x / (1 + exp(-x)) }
    public static func softplus(_ x: Double) -> Double { x > 20 ? x : log1p(exp(x)) }

    public static func scan(x: [Double], delta: [Double], A: [Double], B: [Double], C: [Double], D: [Double], state: [Double],
                     rows l: Int, channels e: Int, states n: Int) -> [Double] {
        var y = [Double](repeating: 0, count: l * e)
        for c in 0..<e {
            var h = (0..<n).map { state[c * n + $0] }
            for t in 0..<l {
                let dt = delta[t * e + c], xv = x[t * e + c]
                var out = D[c] * xv
                for s in 0..<n {
                    h[s] = exp(dt * A[c * n + s]) * h[s] + dt * xv * B[t * n + s]
                    out += h[s] * C[t * n + s]
                }
                y[t * e + c] = out
            }
        }
        return y
    }

    /// The SSD recurrence per head (head h reads group h / (H/G)); state [E, N], head-major.
    public static func ssd(x: [Double], delta: [Double], A: [Double], B: [Double], C: [Double], D: [Double], state: [Double],
                    rows l: Int, heads h: Int, headDim p: Int, groups g: Int, states n: Int) -> [Double] {
        var y = [Double](repeating: 0, count: l * h * p)
        for head in 0..<h {
            let group = head / (h / g)
            var s = Array(state[(head * p * n)..<((head + 1) * p * n)])
            for t in 0..<l {
                let dt = delta[t * h + head], decay = exp(dt * A[head])
                for i in 0..<p {
                    let xv = x[t * h * p + head * p + i]
                    var out = D[head] * xv
                    for k in 0..<n {
                        s[i * n + k] = decay * s[i * n + k] + dt * xv * B[t * g * n + group * n + k]
                        out += s[i * n + k] * C[t * g * n + group * n + k]
                    }
                    y[t * h * p + head * p + i] = out
                }
            }
        }
        return y
    }

    /// out = w ⊙ norm_group(y ⊙ SiLU(z)), or w ⊙ norm_group(y) ⊙ SiLU(z) when normBeforeGate.
    public static func gatedRMSNorm(_ y: [Double], gate z: [Double], weight w: [Double], groupSize: Int, epsilon: Double,
                             normBeforeGate: Bool) -> [Double] {
        let e = w.count
        var out = y
        for t in 0..<(y.count / e) {
            for g in stride(from: 0, to: e, by: groupSize) {
                let v = (0..<groupSize).map { y[t * e + g + $0] * (normBeforeGate ? 1 : silu(z[t * e + g + $0])) }
                let r = 1 / (v.reduce(0) { $0 + $1 * $1 } / Double(groupSize) + epsilon).squareRoot()
                for i in 0..<groupSize {
                    out[t * e + g + i] = w[g + i] * v[i] * r * (normBeforeGate ? silu(z[t * e + g + i]) : 1)
                }
            }
        }
        return out
    }
}
