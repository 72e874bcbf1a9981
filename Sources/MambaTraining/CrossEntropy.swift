import Foundation
import TensorCore

/// Mean next-token cross-entropy over the rows that have a target, with its gradient.
/// Legend: L rows, V vocab. `targets[t] == nil` (or ignored) rows add nothing, as label −100 in PyTorch.
public enum CrossEntropy {
    /// loss = −(1/n) Σ_t log softmax(logits_t)[target_t], n = number of rows with a target.
    public static func forward(logits: Tensor, targets: [Int?]) -> Double {
        let v = logits.columns
        var total = 0.0, n = 0
        for (t, target) in targets.enumerated() {
            guard let target else { continue }
            let row = logits.data[(t * v)..<((t + 1) * v)]
            total += logSumExp(row) - Double(row[row.startIndex + target])
            n += 1
        }
        return n == 0 ? 0 : total / Double(n)
    }

    /// dlogits = (softmax(logits) − onehot(target)) / n on rows with a target, 0 elsewhere; scaled by `upstream`.
    public static func backward(logits: Tensor, targets: [Int?], upstream: Double = 1) -> Tensor {
        let v = logits.columns
        let n = targets.compactMap { $0 }.count
        var grad = Tensor(zeros: logits.shape)
        guard n > 0 else { return grad }
        let scale = upstream / Double(n)
        for (t, target) in targets.enumerated() {
            guard let target else { continue }
            let row = logits.data[(t * v)..<((t + 1) * v)]
            let lse = logSumExp(row)
            for j in 0..<v {
                let p = Foundation.exp(Double(row[row.startIndex + j]) - lse)
                grad.data[t * v + j] = Float((p - (j == target ? 1 : 0)) * scale)
            }
        }
        return grad
    }

    static func logSumExp(_ row: ArraySlice<Float>) -> Double {
        let m = Double(row.max() ?? 0)
        return m + Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) })
    }
}
