import Foundation
import TensorCore

/// The lm_head and the cross-entropy, fused and taken a few rows at a time, so the [L, V] logits (412 MB
/// at L = 2048 with V = 50280) never exist whole: per chunk of rows, logits = hidden · Wᵀ, the loss and
/// dlogits = (softmax − onehot)/n, then dhidden += dlogits · W and dW += dlogitsᵀ · hidden.
/// `CrossEntropy` (+ `Linear`) is its slow twin. Legend: L rows, D d_model, V vocab.
public enum LanguageModelHead {
    /// Mean cross-entropy over the rows with a target (n of them); accumulates dHidden [L, D] and dWeight [V, D].
    public static func lossAndBackward(hidden: Tensor, weight: Tensor, targets: [Int?], rowsPerChunk: Int = 256,
                                       hiddenGradient dHidden: inout Tensor, weightGradient dWeight: inout Tensor) -> Double {
        var none: LinearAdapter? = nil
        return lossAndBackward(hidden: hidden, weight: weight, adapter: nil, targets: targets, rowsPerChunk: rowsPerChunk,
                               hiddenGradient: &dHidden, weightGradient: &dWeight, adapterGradient: &none)
    }

    /// The same for a head with a LoRA branch (`adapter`), whose dA and dB go into `adapterGradient`; the head's
    /// own weight is then frozen (dWeight untouched).
    static func lossAndBackward(hidden: Tensor, weight: Tensor, adapter: LinearAdapter?, targets: [Int?], rowsPerChunk: Int,
                                hiddenGradient dHidden: inout Tensor, weightGradient dWeight: inout Tensor,
                                adapterGradient: inout LinearAdapter?) -> Double {
        let (l, d, v) = (hidden.rows, hidden.columns, weight.rows)
        precondition(targets.count == l && dHidden.shape == hidden.shape && dWeight.shape == weight.shape,
                     "LanguageModelHead: hidden \(hidden.shape), weight \(weight.shape), \(targets.count) targets")
        let n = targets.compactMap { $0 }.count
        guard n > 0 else { return 0 }
        var total = 0.0
        for begin in stride(from: 0, to: l, by: rowsPerChunk) {
            let rows = begin..<min(l, begin + rowsPerChunk)
            let h = hidden.rows(rows)
            var logits = Linear.forward(h, weight: weight)                                 // [r, V]
            adapter?.forward(h, firstRow: rows.lowerBound, into: &logits)
            for (i, t) in rows.enumerated() {
                logits.data.withUnsafeMutableBufferPointer { p in
                    let row = p.baseAddress! + i * v
                    if let target = targets[t] {
                        total += softmaxCrossEntropyRow(row, count: v, target: target, scale: 1 / Float(n))
                    } else {
                        row.update(repeating: 0, count: v)
                    }
                }
            }
            var dh = Tensor(zeros: [rows.count, d])
            if let adapter {                                                                // the head is frozen under a branch
                Linear.backward(weight: weight, outputGradient: logits, inputGradient: &dh)
                adapter.backward(h, firstRow: rows.lowerBound, outputGradient: logits, inputGradient: &dh, gradient: &adapterGradient!)
            } else {
                Linear.backward(h, weight: weight, outputGradient: logits, inputGradient: &dh, weightGradient: &dWeight)
            }
            for i in 0..<dh.count { dHidden.data[rows.lowerBound * d + i] += dh.data[i] }
        }
        return total / Double(n)
    }

    /// Overwrites one row of logits with scale·(softmax − onehot(target)); returns −log softmax[target].
    /// exp is the 16-lane `vexp`; the sum of exponentials is kept in 16 Float lanes and added in Double.
    static func softmaxCrossEntropyRow(_ row: UnsafeMutablePointer<Float>, count v: Int, target: Int, scale: Float) -> Double {
        precondition(target >= 0 && target < v, "LanguageModelHead: target \(target) outside the vocabulary of \(v)")
        let targetLogit = Double(row[target])
        var m = -Float.infinity
        for j in 0..<v { m = max(m, row[j]) }
        let raw = UnsafeMutableRawPointer(row)
        var lanes = Float32x16()
        var j = 0
        while j + 16 <= v {
            let e = vexp(raw.loadUnaligned(fromByteOffset: j * 4, as: Float32x16.self) - m)
            raw.storeBytes(of: e, toByteOffset: j * 4, as: Float32x16.self)
            lanes += e
            j += 16
        }
        var sum = 0.0
        for lane in 0..<16 { sum += Double(lanes[lane]) }
        while j < v { let e = Foundation.exp(row[j] - m); row[j] = e; sum += Double(e); j += 1 }
        let loss = Double(m) + Foundation.log(sum) - targetLogit
        let k = Float(Double(scale) / sum)
        for i in 0..<v { row[i] *= k }
        row[target] -= scale
        return loss
    }
}
