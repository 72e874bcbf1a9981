/// Backward of `RMSNorm.forward`, same argument order, accumulating (+=). Per row, with
/// r = 1/sqrt(mean(x²) + ε) and g = dy ⊙ w:
///   dx += r·g − x · r³ · ⟨g, x⟩ / D        (y = x·r·w, ∂r/∂x = −r³·x/D)
///   dw += dy ⊙ x · r
/// Shapes: x [L, D] (the forward's input), w [D], dy [L, D]. r is recomputed (one pass over the row).
extension RMSNorm {
    public static func backward(_ x: Tensor, weight: Tensor, epsilon: Float, outputGradient dy: Tensor,
                                inputGradient dx: inout Tensor, weightGradient dWeight: inout Tensor) {
        let d = x.columns
        precondition(dy.shape == x.shape && dx.shape == x.shape && weight.count == d && dWeight.count == d,
                     "RMSNorm.backward: x \(x.shape), w \(weight.shape), dy \(dy.shape), dx \(dx.shape)")
        var dw = [Double](repeating: 0, count: d)
        x.data.withUnsafeBufferPointer { xp in
        weight.data.withUnsafeBufferPointer { wp in
        dy.data.withUnsafeBufferPointer { gp in
        dx.data.withUnsafeMutableBufferPointer { out in
            for t in 0..<x.rows {
                let row = xp.baseAddress! + t * d, g = gp.baseAddress! + t * d, o = out.baseAddress! + t * d
                var sumSquares: Float = 0
                for i in 0..<d { sumSquares += row[i] * row[i] }
                let r = 1 / (sumSquares / Float(d) + epsilon).squareRoot()
                var dot: Float = 0
                for i in 0..<d { dot += g[i] * wp[i] * row[i] }
                let k = r * r * r * dot / Float(d)
                for i in 0..<d {
                    o[i] += r * g[i] * wp[i] - k * row[i]
                    dw[i] += Double(g[i] * row[i] * r)
                }
            }
        }}}}
        for i in 0..<d { dWeight.data[i] += Float(dw[i]) }
    }
}
