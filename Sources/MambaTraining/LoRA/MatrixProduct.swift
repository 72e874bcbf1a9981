import TensorCore

/// scale · op(x) · op(y) for 2-D tensors, op = transpose when asked: the few products LoRA needs.
enum MatrixProduct {
    static func product(_ x: Tensor, _ y: Tensor, transposeX tx: Bool = false, transposeY ty: Bool = false, scale: Float = 1) -> Tensor {
        let m = tx ? x.shape[1] : x.shape[0], k = tx ? x.shape[0] : x.shape[1]
        let n = ty ? y.shape[0] : y.shape[1]
        precondition((ty ? y.shape[1] : y.shape[0]) == k, "MatrixProduct: inner sizes \(x.shape) · \(y.shape)")
        var c = Tensor(zeros: [m, n])
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeBufferPointer { yp in
                c.data.withUnsafeMutableBufferPointer { cp in
                    BLAS.gemm(m: m, n: n, k: k, a: xp.baseAddress!, b: yp.baseAddress!, transposeB: ty, c: cp.baseAddress!,
                              alpha: scale, beta: 0, transposeA: tx)
                }
            }
        }
        return c
    }
}
