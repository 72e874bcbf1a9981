/// RMSNorm: y = x / sqrt(mean(x²) + ε) · w, per row. Shapes: x [L, D], w [D].
public enum RMSNorm {
    public static func forward(_ x: Tensor, weight: Tensor, epsilon: Float) -> Tensor {
        let d = x.columns
        precondition(weight.count == d, "RMSNorm: weight \(weight.shape) for rows of \(d)")
        var y = x
        // A prompt chunk's rows split across the workers; each row is normalized exactly as alone.
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                Parallel.forEachRange(x.rows, granularity: x.count < 1 << 16 ? max(x.rows, 1) : 16) { rows in
                    forward(xp.baseAddress! + rows.lowerBound * d, rows: rows.count, weight: weight, epsilon: epsilon,
                            into: yp.baseAddress! + rows.lowerBound * d)
                }
            }
        }
        return y
    }

    /// x [rows, D] → y [rows, D] (may be x itself), D = the weight's size.
    public static func forward(_ x: UnsafePointer<Float>, rows: Int, weight: Tensor, epsilon: Float, into y: UnsafeMutablePointer<Float>) {
        let d = weight.count
        weight.data.withUnsafeBufferPointer { w in
            for t in 0..<rows {
                let row = x + t * d
                var sumSquares: Float = 0
                for i in 0..<d { sumSquares += row[i] * row[i] }
                let scale = 1 / (sumSquares / Float(d) + epsilon).squareRoot()
                let out = y + t * d
                for i in 0..<d { out[i] = row[i] * scale * w[i] }
            }
        }
    }

    public static func reference(_ x: Tensor, weight: Tensor, epsilon: Float) -> Tensor {
        let d = x.columns
        var y = x
        for t in 0..<x.rows {
            var s = 0.0
            for i in 0..<d { s += Double(x.data[t * d + i]) * Double(x.data[t * d + i]) }
            let scale = 1 / (s / Double(d) + Double(epsilon)).squareRoot()
            for i in 0..<d { y.data[t * d + i] = Float(Double(x.data[t * d + i]) * scale * Double(weight.data[i])) }
        }
        return y
    }
}
