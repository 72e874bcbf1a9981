/// RMSNorm: y = x / sqrt(mean(x²) + ε) · w, per row. Shapes: x [L, D], w [D].
public enum RMSNorm {
    public static func forward(_ x: Tensor, weight: Tensor, epsilon: Float) -> Tensor {
        let d = x.columns
        precondition(weight.count == d, "RMSNorm: weight \(weight.shape) for rows of \(d)")
        var y = x
        x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    for t in 0..<x.rows {
                        let row = xp.baseAddress! + t * d
                        var sumSquares: Float = 0
                        for i in 0..<d { sumSquares += row[i] * row[i] }
                        let scale = 1 / (sumSquares / Float(d) + epsilon).squareRoot()
                        let out = yp.baseAddress! + t * d
                        for i in 0..<d { out[i] = row[i] * scale * wp[i] }
                    }
                }
            }
        }
        return y
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
