/// y = x · Wᵀ + b with W a stored `Weight` (F32, F16, BF16 or Q8_0). Shapes: x [L, in], W [out, in],
/// b [out], y [L, out].
/// - L ≤ `streamingRows` (decode, a batch of decodes): W is streamed once and decoded in registers
///   (`WeightStreaming`), memory-bound.
/// - more rows (prefill): compute-bound sgemm; Float32 weights are used in place, other types are decoded
///   to Float32 one panel of `panelRows` rows at a time, each worker its own panels.
/// Q8_0 weights multiply Q8_0 activations (x quantized per block of 32, as llama.cpp does) on both paths:
/// int8 · int8 sums when streaming, x̂ = d · q through sgemm otherwise (`Q8Activations`).
extension Linear {
    public static let streamingRows = 16
    static let panelRows = 128

    public static func forward(_ x: Tensor, weight: Weight, bias: Tensor? = nil) -> Tensor {
        precondition(weight.columns == x.columns, "Linear: x has \(x.columns) features, W is \(weight.shape)")
        precondition(bias.map { $0.count == weight.rows } ?? true, "Linear: bias \(bias?.shape ?? []) for \(weight.rows) outputs")
        var y = Tensor(zeros: [x.rows, weight.rows])
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                if x.rows > 0 { forward(xp.baseAddress!, rows: x.rows, weight: weight, bias: bias, into: yp.baseAddress!) }
            }
        }
        return y
    }

    /// x [rows, in] (row t at x + t · `xStride`, default in: a column block of a wider matrix is read in
    /// place) → y [rows, out] (overwritten); bias [out].
    public static func forward(_ x: UnsafePointer<Float>, rows l: Int, xStride: Int? = nil, weight: Weight, bias: Tensor?,
                               into y: UnsafeMutablePointer<Float>) {
        bias.withUnsafePointer { b in
            weight.withValues { forward(x, rows: l, xStride: xStride ?? $0.columns, weight: $0, bias: b, into: y) }
        }
    }

    static func forward(_ x: UnsafePointer<Float>, rows l: Int, xStride lda: Int, weight: StoredValues,
                        bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let (n, k) = (weight.rows, weight.columns)
        precondition(lda >= k, "Linear: row stride \(lda) below \(k) columns")
        guard l > 0 else { return }
        if l <= streamingRows {
            WeightStreaming.multiply(weight, x: x, batch: l, xStride: lda, y: y)
            if let bias { for t in 0..<l { for o in 0..<n { y[t * n + o] += bias[o] } } }
            return
        }
        if let bias { for t in 0..<l { (y + t * n).update(from: bias, count: n) } }
        let beta: Float = bias == nil ? 0 : 1
        if let w = weight.float32 {
            BLAS.gemm(m: l, n: n, k: k, a: x, lda: lda, b: w, transposeB: true, c: y, beta: beta)
            return
        }
        if weight.type == .q8_0 {
            let quantized = UnsafeMutablePointer<Float>.allocate(capacity: l * k)
            defer { quantized.deallocate() }
            let io = (x: SendablePointer(x), out: SendablePointer(quantized))
            Parallel.forEachRange(l, granularity: 16) { rows in
                Q8Activations.roundTrip(io.x.p + rows.lowerBound * lda, rows: rows.count, columns: k, stride: lda,
                                        into: io.out.p + rows.lowerBound * k)
            }
            return panels(quantized, rows: l, xStride: k, weight: weight, beta: beta, into: y)
        }
        panels(x, rows: l, xStride: lda, weight: weight, beta: beta, into: y)
    }

    /// y (+)= x · Wᵀ, W decoded one panel at a time.
    static func panels(_ x: UnsafePointer<Float>, rows l: Int, xStride lda: Int, weight: StoredValues, beta: Float,
                       into y: UnsafeMutablePointer<Float>) {
        let (n, k) = (weight.rows, weight.columns)
        let io = (x: SendablePointer(x), y: SendablePointer(y))
        Parallel.forEachRange(n, granularity: panelRows) { band in
            let panel = UnsafeMutablePointer<Float>.allocate(capacity: panelRows * k)
            defer { panel.deallocate() }
            for first in stride(from: band.lowerBound, to: band.upperBound, by: panelRows) {
                let rows = first..<min(first + panelRows, band.upperBound)
                WeightEncoding.decode(weight, rows: rows, into: panel)
                BLAS.call(m: l, n: rows.count, k: k, a: io.x.p, lda: lda, b: panel, ldb: k, c: io.y.p + first, ldc: n,
                          alpha: 1, beta: beta, transposeA: false, transposeB: true)
            }
        }
    }

    /// The slow twin of a stored-weight product: the weight decoded to Float32 (and for Q8_0 x quantized
    /// per block and back), then `reference`.
    public static func reference(_ x: Tensor, weight: Weight, bias: Tensor? = nil) -> Tensor {
        guard weight.type == .q8_0 else { return reference(x, weight: weight.tensor(), bias: bias) }
        var x̂ = Tensor(zeros: x.shape)
        x.data.withUnsafeBufferPointer { xp in
            x̂.data.withUnsafeMutableBufferPointer { Q8Activations.roundTrip(xp.baseAddress!, rows: x.rows, columns: x.columns,
                                                                              stride: x.columns, into: $0.baseAddress!) }
        }
        return reference(x̂, weight: weight.tensor(), bias: bias)
    }
}
