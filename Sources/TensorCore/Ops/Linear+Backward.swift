/// Backward of `Linear.forward` (y = x · Wᵀ + b), same argument order, accumulating (+=):
///   dx += dy · W        [L, in]
///   dW += dyᵀ · x       [out, in]
///   db += Σ_t dy[t]     [out]
/// Shapes: x [L, in], W [out, in], dy [L, out].
extension Linear {
    public static func backward(_ x: Tensor, weight: Tensor, outputGradient dy: Tensor,
                                inputGradient dx: inout Tensor, weightGradient dWeight: inout Tensor,
                                biasGradient dBias: inout Tensor?) {
        backward(x, weight: weight, outputGradient: dy, inputGradient: &dx, weightGradient: &dWeight)
        if dBias != nil { accumulateColumnSums(dy, into: &dBias!) }
    }

    public static func backward(_ x: Tensor, weight: Tensor, outputGradient dy: Tensor,
                                inputGradient dx: inout Tensor, weightGradient dWeight: inout Tensor) {
        precondition(dWeight.count == weight.count, "Linear.backward: W \(weight.shape), dW \(dWeight.shape)")
        backward(weight: weight, outputGradient: dy, inputGradient: &dx)
        let (l, inFeatures, outFeatures) = (x.rows, x.columns, weight.shape[0])
        precondition(dx.count == x.count, "Linear.backward: x \(x.shape), dx \(dx.shape)")
        guard l > 0 else { return }
        dy.data.withUnsafeBufferPointer { g in
            x.data.withUnsafeBufferPointer { xp in
                dWeight.data.withUnsafeMutableBufferPointer { out in
                    // dW[out, in] += dyᵀ[out, L] · x[L, in]
                    BLAS.gemm(m: outFeatures, n: inFeatures, k: l, a: g.baseAddress!, b: xp.baseAddress!,
                              transposeB: false, c: out.baseAddress!, beta: 1, transposeA: true)
                }
            }
        }
    }

    /// Only dx += dy · W, for a frozen weight (no dW wanted).
    public static func backward(weight: Tensor, outputGradient dy: Tensor, inputGradient dx: inout Tensor) {
        let (l, outFeatures) = (dy.rows, weight.shape[0]), inFeatures = weight.columns
        precondition(dy.columns == outFeatures && dx.count == l * inFeatures,
                     "Linear.backward: W \(weight.shape), dy \(dy.shape), dx \(dx.shape)")
        guard l > 0 else { return }
        dy.data.withUnsafeBufferPointer { g in
            weight.data.withUnsafeBufferPointer { w in
                dx.data.withUnsafeMutableBufferPointer { out in
                    // dx[L, in] += dy[L, out] · W[out, in]
                    BLAS.gemm(m: l, n: inFeatures, k: outFeatures, a: g.baseAddress!, b: w.baseAddress!,
                              transposeB: false, c: out.baseAddress!, beta: 1)
                }
            }
        }
    }

    /// The slow twin: the same sums as three loops in Double.
    public static func backwardReference(_ x: Tensor, weight: Tensor, outputGradient dy: Tensor,
                                         inputGradient dx: inout Tensor, weightGradient dWeight: inout Tensor,
                                         biasGradient dBias: inout Tensor?) {
        let (l, inFeatures, outFeatures) = (x.rows, x.columns, weight.shape[0])
        for t in 0..<l {
            for i in 0..<inFeatures {
                var s = 0.0
                for o in 0..<outFeatures { s += Double(dy.data[t * outFeatures + o]) * Double(weight.data[o * inFeatures + i]) }
                dx.data[t * inFeatures + i] += Float(s)
            }
        }
        for o in 0..<outFeatures {
            for i in 0..<inFeatures {
                var s = 0.0
                for t in 0..<l { s += Double(dy.data[t * outFeatures + o]) * Double(x.data[t * inFeatures + i]) }
                dWeight.data[o * inFeatures + i] += Float(s)
            }
        }
        if dBias != nil { accumulateColumnSums(dy, into: &dBias!) }
    }

    /// db[j] += Σ_t m[t, j], summed in Double.
    public static func accumulateColumnSums(_ m: Tensor, into db: inout Tensor) {
        let c = m.columns
        precondition(db.count == c, "Linear.backward: bias gradient \(db.shape) for \(c) outputs")
        var sums = [Double](repeating: 0, count: c)
        m.data.withUnsafeBufferPointer { p in
            for t in 0..<m.rows { for j in 0..<c { sums[j] += Double(p[t * c + j]) } }
        }
        for j in 0..<c { db.data[j] += Float(sums[j]) }
    }
}
