import Foundation

/// Backward of `GatedRMSNorm.forward`, same argument order, accumulating (+=). Per row and group, with the
/// gate split into the factor applied before the norm (`before` = SiLU(z), or 1 when normBeforeGate) and
/// the one after (`after` = 1, or SiLU(z)):
///   v = y ⊙ before,  r = 1/sqrt(mean_group(v²) + ε),  out = w ⊙ v·r ⊙ after
///   q   = dout ⊙ after ⊙ w                      (the gradient reaching the normed v·r)
///   dv  = r·q − v · r³ · ⟨q, v⟩ / groupSize      (RMSNorm's backward within the group)
///   dy += dv ⊙ before
///   dz += SiLU'(z) ⊙ (dv ⊙ y                     when the gate comes first
///                     dout ⊙ w ⊙ v·r             when the norm comes first)
///   dw += dout ⊙ after ⊙ v·r
/// Shapes: y, z, dout, dy, dz [L, E]; w, dw [E]. Everything but dout is recomputed from y and z.
extension GatedRMSNorm {
    public static func backward(_ y: Tensor, gate z: Tensor, weight: Tensor, groupSize: Int, epsilon: Float,
                                normBeforeGate: Bool, outputGradient dout: Tensor, inputGradient dy: inout Tensor,
                                gateGradient dz: inout Tensor, weightGradient dWeight: inout Tensor) {
        let e = y.columns
        precondition(z.shape == y.shape && dout.shape == y.shape && dy.shape == y.shape && dz.shape == y.shape
                     && weight.count == e && dWeight.count == e && groupSize > 0 && e % groupSize == 0,
                     "GatedRMSNorm.backward: y \(y.shape), z \(z.shape), dout \(dout.shape), w \(weight.shape), group \(groupSize)")
        var dw = [Double](repeating: 0, count: e)
        var v = [Float](repeating: 0, count: groupSize), q = v
        for t in 0..<y.rows {
            for g in stride(from: 0, to: e, by: groupSize) {
                let base = t * e + g
                var sumSquares: Float = 0
                for i in 0..<groupSize {
                    let before = normBeforeGate ? 1 : Activations.siluReference(z.data[base + i])
                    v[i] = y.data[base + i] * before
                    sumSquares += v[i] * v[i]
                }
                let r = 1 / (sumSquares / Float(groupSize) + epsilon).squareRoot()
                var dot: Float = 0
                for i in 0..<groupSize {
                    let after = normBeforeGate ? Activations.siluReference(z.data[base + i]) : 1
                    q[i] = dout.data[base + i] * after * weight.data[g + i]
                    dot += q[i] * v[i]
                    dw[g + i] += Double(dout.data[base + i] * after * v[i] * r)
                }
                let k = r * r * r * dot / Float(groupSize)
                for i in 0..<groupSize {
                    let zi = z.data[base + i]
                    let dv = r * q[i] - k * v[i]
                    let siluPrime = Activations.siluDerivative(zi)
                    if normBeforeGate {
                        dy.data[base + i] += dv
                        dz.data[base + i] += siluPrime * dout.data[base + i] * weight.data[g + i] * v[i] * r
                    } else {
                        dy.data[base + i] += dv * Activations.siluReference(zi)
                        dz.data[base + i] += siluPrime * dv * y.data[base + i]
                    }
                }
            }
        }
        for i in 0..<e { dWeight.data[i] += Float(dw[i]) }
    }
}
