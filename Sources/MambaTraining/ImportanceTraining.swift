import MambaLM
import TensorCore

/// The importance of stage 1 (Eq. 3), cos_i = cos(Key(h_i), Query(h_L)), with torch's CosineSimilarity(eps = 1e-8):
///   cos = (k / max(‖k‖, ε)) · (q / max(‖q‖, ε)),   each norm clamped on its own.
/// Forward is `SelectiveCompression.cosine` (the inference code). Backward, for ‖k‖ > ε (else the clamp is
/// constant and that term vanishes): ∂cos/∂k = q / (max(‖k‖,ε)·max(‖q‖,ε)) − cos · k / ‖k‖², and likewise for q.
/// Legend: R rows of the range, D d_model.
enum ImportanceTraining {
    static let epsilon = 1e-8

    /// keys [R, D], query [1, D] → importance [R].
    static func forward(keys: Tensor, query: Tensor) -> [Float] {
        (0..<keys.rows).map { SelectiveCompression.cosine(keys.row($0), query.row(0)) }
    }

    /// dImportance [R] → accumulates dKeys [R, D] and dQuery [1, D].
    static func backward(keys: Tensor, query: Tensor, importanceGradient dImportance: [Double],
                         keyGradient dKeys: inout Tensor, queryGradient dQuery: inout Tensor) {
        let d = keys.columns
        let q = query.row(0).map(Double.init)
        let qNorm = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var dq = [Double](repeating: 0, count: d)
        for i in 0..<keys.rows where dImportance[i] != 0 {
            let k = keys.row(i).map(Double.init)
            let kNorm = k.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let scale = 1 / (max(kNorm, epsilon) * max(qNorm, epsilon))
            let cosine = zip(k, q).reduce(0) { $0 + $1.0 * $1.1 } * scale
            let kTerm = kNorm > epsilon ? cosine / (kNorm * kNorm) : 0
            let qTerm = qNorm > epsilon ? cosine / (qNorm * qNorm) : 0
            let g = dImportance[i]
            for j in 0..<d {
                dKeys.data[i * d + j] += Float(g * (q[j] * scale - kTerm * k[j]))
                dq[j] += g * (k[j] * scale - qTerm * q[j])
            }
        }
        for j in 0..<d { dQuery.data[j] += Float(dq[j]) }
    }
}
