import TensorCore

/// PEFT's LoRA branch on an `nn.Linear`, unmerged, as peft/tuners/lora/layer.py `Linear.forward` runs it in
/// training:  y = x·Wᵀ + b + s·B·A·dropout(x),  s = alpha / r. The merged weights W + s·B·A cannot drop the
/// adapter's input alone; LoRA runs train through this branch (`LoRAModel`), W frozen.
/// The same type holds the factors' gradients. Legend: L rows, n in features, o out features, r rank.
public struct LinearAdapter: Sendable {
    public var a: Tensor       // [r, n]  <module>.lora_A.weight
    public var b: Tensor       // [o, r]  <module>.lora_B.weight
    let scale: Float
    let mask: DropoutMask

    public init(a: Tensor, b: Tensor, scale: Float, mask: DropoutMask) {
        precondition(a.rank == 2 && b.rank == 2 && b.shape[1] == a.shape[0], "LinearAdapter: A \(a.shape), B \(b.shape)")
        (self.a, self.b, self.scale, self.mask) = (a, b, scale, mask)
    }

    /// Same shapes, all zeros (a gradient accumulator).
    func zeros() -> LinearAdapter {
        LinearAdapter(a: Tensor(zeros: a.shape), b: Tensor(zeros: b.shape), scale: scale, mask: mask)
    }

    /// The same factors with the next pass's masks (ReMamba's stage 2 runs every module a second time).
    func nextPass(module: String) -> LinearAdapter {
        LinearAdapter(a: a, b: b, scale: scale, mask: DropoutMask(probability: mask.probability,
                                                                    passSeed: DropoutMask.nextPass(mask.passSeed), module: module))
    }

    /// y [R, o] += s·(dropout(x)·Aᵀ)·Bᵀ for rows [firstRow, firstRow + R) of the module's input x [R, n].
    func forward(_ x: Tensor, firstRow: Int = 0, into y: inout Tensor) {
        var low = Linear.forward(mask.apply(x, firstRow: firstRow), weight: a)                 // [R, r]
        for i in 0..<low.count { low.data[i] *= scale }
        let delta = Linear.forward(low, weight: b)                                            // [R, o]
        for i in 0..<y.count { y.data[i] += delta.data[i] }
    }

    /// dy [R, o] → dx [R, n] += dropout'(s·(dy·B)·A); dB += dyᵀ·(s·x̃·Aᵀ), dA += (s·dy·B)ᵀ·x̃ with x̃ = dropout(x).
    func backward(_ x: Tensor, firstRow: Int = 0, outputGradient dy: Tensor, inputGradient dx: inout Tensor,
                  gradient g: inout LinearAdapter) {
        let factors = mask.factors(rows: x.rows, columns: x.columns, firstRow: firstRow)      // hashed once for both uses
        let dropped = DropoutMask.scale(x, by: factors)                                        // [R, n]
        var low = Linear.forward(dropped, weight: a)                                           // [R, r]
        for i in 0..<low.count { low.data[i] *= scale }
        var dLow = Tensor(zeros: low.shape)
        Linear.backward(low, weight: b, outputGradient: dy, inputGradient: &dLow, weightGradient: &g.b)
        for i in 0..<dLow.count { dLow.data[i] *= scale }
        var dDropped = Tensor(zeros: x.shape)
        Linear.backward(dropped, weight: a, outputGradient: dLow, inputGradient: &dDropped, weightGradient: &g.a)
        let dInput = DropoutMask.scale(dDropped, by: factors)                                  // the same mask and 1/(1 − p)
        for i in 0..<dx.count { dx.data[i] += dInput.data[i] }
    }
}

/// A Linear with an optional LoRA branch, forward and backward: what the training blocks call at every module
/// LoRA may target. Under a branch the Linear's own weight and bias are frozen (PEFT's base_layer): their
/// gradients are not computed (they stay zero), which saves the dW product.
enum AdaptedLinear {
    /// y = x·Wᵀ + b (+ the adapter's branch); x holds rows [firstRow, …) of the module's input.
    static func forward(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, adapter: LinearAdapter?, firstRow: Int = 0) -> Tensor {
        var y = Linear.forward(x, weight: weight, bias: bias)
        adapter?.forward(x, firstRow: firstRow, into: &y)
        return y
    }

    /// Accumulates dx and dW, db, or with a branch dx and its dA, dB (`adapterGradient` must then be non-nil).
    static func backward(_ x: Tensor, weight: Tensor, adapter: LinearAdapter?, outputGradient dy: Tensor,
                         inputGradient dx: inout Tensor, weightGradient dW: inout Tensor, biasGradient db: inout Tensor?,
                         adapterGradient: inout LinearAdapter?) {
        guard let adapter else {
            return Linear.backward(x, weight: weight, outputGradient: dy, inputGradient: &dx, weightGradient: &dW, biasGradient: &db)
        }
        Linear.backward(weight: weight, outputGradient: dy, inputGradient: &dx)
        adapter.backward(x, outputGradient: dy, inputGradient: &dx, gradient: &adapterGradient!)
    }

    /// The same for a Linear without bias.
    static func backward(_ x: Tensor, weight: Tensor, adapter: LinearAdapter?, outputGradient dy: Tensor,
                         inputGradient dx: inout Tensor, weightGradient dW: inout Tensor, adapterGradient: inout LinearAdapter?) {
        var noBias: Tensor? = nil
        backward(x, weight: weight, adapter: adapter, outputGradient: dy, inputGradient: &dx, weightGradient: &dW,
                 biasGradient: &noBias, adapterGradient: &adapterGradient)
    }
}
