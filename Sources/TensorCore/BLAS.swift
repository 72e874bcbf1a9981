import COpenBLAS

/// The only door to OpenBLAS. Matrices are row-major Float32.
///
/// OpenBLAS runs single-threaded; large products are split across `Parallel.threads` workers here.
/// OpenBLAS's own thread pool busy-waits (sched_yield) after each call, and on a 2-core machine that
/// spinning steals the cores the scan kernels run on next (measured: ~15% of prefill time).
public enum BLAS {
    private static let singleThreaded: Void = openblas_set_num_threads(1)

    /// Products smaller than this many multiply-adds run on one worker.
    static let parallelThreshold = 1 << 21

    /// C[M,N] = alpha · op(A) · op(B) + beta · C, where op(A) = A [M,K] (or Aᵀ with A [K,M] when
    /// `transposeA`) and op(B) = Bᵀ with B [N,K] when `transposeB`, else B [K,N]. `lda`: A's row stride when A is
    /// a column block of a wider matrix (default: packed).
    public static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>,
                            transposeB: Bool, c: UnsafeMutablePointer<Float>,
                            alpha: Float = 1, beta: Float = 0, transposeA: Bool = false) {
        guard m > 0, n > 0 else { return }
        let lda = lda ?? (transposeA ? m : k), ldb = transposeB ? k : n, ldc = n
        let pointers = (a: SendablePointer(a), b: SendablePointer(b), c: SendablePointer(c))
        let workers = m * n * k < parallelThreshold ? 1 : Parallel.threads
        if workers > 1 && n >= 64 * workers {
            // Split the columns of C: each worker takes a band of op(B).
            Parallel.forEachRange(n, granularity: 16) { cols in
                let bBand = transposeB ? pointers.b.p + cols.lowerBound * ldb : pointers.b.p + cols.lowerBound
                call(m: m, n: cols.count, k: k, a: pointers.a.p, lda: lda, b: bBand, ldb: ldb,
                     c: pointers.c.p + cols.lowerBound, ldc: ldc, alpha: alpha, beta: beta, transposeA: transposeA, transposeB: transposeB)
            }
        } else if workers > 1 && m >= 16 * workers {
            // Split the rows of C: each worker takes a band of op(A).
            Parallel.forEachRange(m, granularity: 16) { rows in
                let aBand = transposeA ? pointers.a.p + rows.lowerBound : pointers.a.p + rows.lowerBound * lda
                call(m: rows.count, n: n, k: k, a: aBand, lda: lda, b: pointers.b.p, ldb: ldb,
                     c: pointers.c.p + rows.lowerBound * ldc, ldc: ldc, alpha: alpha, beta: beta, transposeA: transposeA, transposeB: transposeB)
            }
        } else {
            call(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, alpha: alpha, beta: beta,
                 transposeA: transposeA, transposeB: transposeB)
        }
    }

    /// One single-threaded cblas_sgemm with explicit leading dimensions (the caller splits the work).
    static func call(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float, transposeA: Bool, transposeB: Bool) {
        _ = singleThreaded
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[M] = alpha · A[M,N] · x[N] + beta · y. Memory-bound: large matrices are split by rows.
    public static func gemv(m: Int, n: Int, a: UnsafePointer<Float>, x: UnsafePointer<Float>,
                            y: UnsafeMutablePointer<Float>, alpha: Float = 1, beta: Float = 0) {
        guard m > 0 else { return }
        _ = singleThreaded
        let pointers = (a: SendablePointer(a), x: SendablePointer(x), y: SendablePointer(y))
        let granularity = m * n < parallelThreshold / 8 ? m : 64
        Parallel.forEachRange(m, granularity: granularity) { rows in
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(rows.count), Int32(n), alpha, pointers.a.p + rows.lowerBound * n,
                        Int32(n), pointers.x.p, 1, beta, pointers.y.p + rows.lowerBound, 1)
        }
    }

    /// The kernel family OpenBLAS chose (e.g. "Haswell", "SkylakeX"); OPENBLAS_CORETYPE overrides it.
    public static var coreName: String { String(cString: openblas_get_corename()) }
}
