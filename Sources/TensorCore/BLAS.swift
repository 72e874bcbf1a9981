import COpenBLAS

/// The only door to OpenBLAS. Matrices are row-major Float32.
public enum BLAS {
    /// C[M,N] = alpha · A[M,K] · op(B) + beta · C, where op(B) = Bᵀ when `transposeB` (B is [N,K]),
    /// else B ([K,N]).
    public static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                            transposeB: Bool, c: UnsafeMutablePointer<Float>,
                            alpha: Float = 1, beta: Float = 0, transposeA: Bool = false) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n), beta, c, Int32(n))
    }

    /// y[M] = alpha · A[M,N] · x[N] + beta · y.
    public static func gemv(m: Int, n: Int, a: UnsafePointer<Float>, x: UnsafePointer<Float>,
                            y: UnsafeMutablePointer<Float>, alpha: Float = 1, beta: Float = 0) {
        guard m > 0 else { return }
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(n), x, 1, beta, y, 1)
    }

    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// The kernel family OpenBLAS chose (e.g. "Haswell", "SkylakeX"); OPENBLAS_CORETYPE overrides it.
    public static var coreName: String { String(cString: openblas_get_corename()) }
}
