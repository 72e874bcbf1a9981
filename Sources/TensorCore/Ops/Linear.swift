/// y = x · Wᵀ + b, the `nn.Linear` of PyTorch. Shapes: x [L, in], W [out, in], b [out], y [L, out].
public enum Linear {
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        let (l, inFeatures, outFeatures) = (x.rows, x.columns, weight.shape[0])
        precondition(weight.columns == inFeatures, "Linear: x has \(inFeatures) features, W is \(weight.shape)")
        var y = Tensor(zeros: [l, outFeatures])
        if let bias {
            precondition(bias.count == outFeatures, "Linear: bias \(bias.shape) for \(outFeatures) outputs")
            for t in 0..<l { y.data.replaceSubrange((t * outFeatures)..<((t + 1) * outFeatures), with: bias.data) }
        }
        let beta: Float = bias == nil ? 0 : 1
        x.data.withUnsafeBufferPointer { xp in
            weight.data.withUnsafeBufferPointer { wp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    if l == 1 {
                        // Decoding: one row, memory-bound; gemv streams W once.
                        BLAS.gemv(m: outFeatures, n: inFeatures, a: wp.baseAddress!, x: xp.baseAddress!,
                                  y: yp.baseAddress!, beta: beta)
                    } else {
                        BLAS.gemm(m: l, n: outFeatures, k: inFeatures, a: xp.baseAddress!, b: wp.baseAddress!,
                                  transposeB: true, c: yp.baseAddress!, beta: beta)
                    }
                }
            }
        }
        return y
    }

    /// The slow twin: three loops, accumulated in Double.
    public static func reference(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        let (l, inFeatures, outFeatures) = (x.rows, x.columns, weight.shape[0])
        var y = Tensor(zeros: [l, outFeatures])
        for t in 0..<l {
            for o in 0..<outFeatures {
                var s = Double(bias?.data[o] ?? 0)
                for i in 0..<inFeatures { s += Double(x.data[t * inFeatures + i]) * Double(weight.data[o * inFeatures + i]) }
                y.data[t * outFeatures + o] = Float(s)
            }
        }
        return y
    }
}
