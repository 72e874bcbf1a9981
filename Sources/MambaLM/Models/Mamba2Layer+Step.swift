import TensorCore

/// The decode step of a Mamba-2 block, as `MambaLayer+Step` is Mamba-1's: one position of B sequences, `forward`
/// over one-row segments op for op and bit for bit, every intermediate a region of one scratch buffer, the column
/// blocks of in_proj's output (z, xBC, dt) and of the convolved row (x, B, C) read where they lie.
extension Mamba2Layer {
    /// Floats of scratch `step` uses for `batch` sequences.
    public static func stepScratchCount(_ c: Mamba2Configuration, batch: Int) -> Int {
        batch * (c.hiddenSize + c.inProjectionSize + c.convolutionDimension + c.numberOfHeads + c.innerSize)
    }

    /// hidden [B, D] ← hidden + Mixer(RMSNorm(hidden)), row b continuing `states[b]`.
    public func step(_ hidden: UnsafeMutablePointer<Float>, batch: Int, states: inout [LayerState],
                     scratch: UnsafeMutablePointer<Float>) {
        let c = configuration
        let (d, e, h, gn) = (c.hiddenSize, c.innerSize, c.numberOfHeads, c.numberOfGroups * c.stateSize)
        let (width, x) = (c.inProjectionSize, c.convolutionDimension)
        let normed = scratch                          // [B, D]; later out_proj's output
        let projected = normed + batch * d            // [B, E + X + H]: z | xBC | dt
        let convolved = projected + batch * width     // [B, X]: x | B | C, after SiLU
        let delta = convolved + batch * x             // [B, H]
        let y = delta + batch * h                     // [B, E]

        RMSNorm.forward(hidden, rows: batch, weight: norm, epsilon: c.layerNormEpsilon, into: normed)
        Linear.forward(normed, rows: batch, weight: inProjection, bias: inProjectionBias, into: projected)
        convolutionStep(batch, &states, weight: convolution, bias: convolutionBias, input: projected + e, inputStride: width,
                        output: convolved)
        dtBias.data.withUnsafeBufferPointer { bias in
            for b in 0..<batch { for i in 0..<h { delta[b * h + i] = projected[b * width + e + x + i] + bias[i] } }
        }
        Activations.softplus(delta, count: batch * h)                                     // Δ [B, H]
        clamp(delta, count: batch * h, to: c.timeStepLimit)
        bySequence(batch, &states) { b, state in
            let row = convolved + b * x
            state.ssm.data.withUnsafeMutableBufferPointer {
                StateSpaceDuality.step(x: row, delta: delta + b * h, A: A, B: row + e, C: row + e + gn, D: D,
                                       groups: c.numberOfGroups, state: $0.baseAddress!, y: y + b * e, headDim: e / h,
                                       stateSize: c.stateSize, acrossWorkers: batch == 1)
            }
            GatedRMSNorm.forward(y + b * e, gate: projected + b * width, rows: 1, weight: gatedNorm, groupSize: c.normGroupSize,
                                 epsilon: c.layerNormEpsilon, normBeforeGate: c.normBeforeGate)
        }
        Linear.forward(y, rows: batch, weight: outProjection, bias: outProjectionBias, into: normed)
        for i in 0..<(batch * d) { hidden[i] = normed[i] + hidden[i] }                    // residual
    }
}
