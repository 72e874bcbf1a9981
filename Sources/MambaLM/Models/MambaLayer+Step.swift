import TensorCore

/// The decode step of a Mamba-1 block: one position of each of B sequences, `forward` over one-row segments op
/// for op (the same kernels, the same sums in the same order, so bit for bit the same) without its allocations:
/// every intermediate is a region of one scratch buffer that the model hands to each layer in turn, the column
/// blocks of in_proj's output (x, z) and of x_proj's (r, B, C) are read where they lie, SiLU runs on the
/// convolved row while it is in cache, and the gate on the scanned one.
extension MambaLayer {
    /// Floats of scratch `step` uses for `batch` sequences.
    public static func stepScratchCount(_ c: MambaConfiguration, batch: Int) -> Int {
        let (d, e, n, r) = (c.hiddenSize, c.innerSize, c.stateSize, c.timeStepRank)
        return batch * (d + 2 * e + e + (r + 2 * n) + e + e)
    }

    /// hidden [B, D] ← hidden + Mixer(RMSNorm(hidden)), row b continuing `states[b]`.
    public func step(_ hidden: UnsafeMutablePointer<Float>, batch: Int, states: inout [LayerState],
                     scratch: UnsafeMutablePointer<Float>) {
        let c = configuration
        let (d, e, n, r) = (c.hiddenSize, c.innerSize, c.stateSize, c.timeStepRank)
        let (xzWidth, xDBLWidth) = (2 * e, r + 2 * n)
        let normed = scratch                          // [B, D]; later out_proj's output
        let xz = normed + batch * d                   // [B, 2E]: x | z
        let u = xz + batch * xzWidth                  // [B, E]: SiLU(conv(x))
        let xDBL = u + batch * e                      // [B, R + 2N]: r | B | C
        let delta = xDBL + batch * xDBLWidth          // [B, E]
        let y = delta + batch * e                     // [B, E]

        RMSNorm.forward(hidden, rows: batch, weight: norm, epsilon: c.layerNormEpsilon, into: normed)
        Linear.forward(normed, rows: batch, weight: inProjection, bias: inProjectionBias, into: xz)
        convolutionStep(batch, &states, weight: convolution, bias: convolutionBias, input: xz, inputStride: xzWidth, output: u)
        Linear.forward(u, rows: batch, weight: xProjection, bias: nil, into: xDBL)
        Linear.forward(xDBL, rows: batch, xStride: xDBLWidth, weight: dtProjection, bias: nil, into: delta)  // W r, no bias
        ColumnBlocks.addToEveryRow(delta, rows: batch, dtProjectionBias)
        Activations.softplus(delta, count: batch * e)                                     // Δ = softplus(W r + b)
        bySequence(batch, &states) { b, state in
            let row = xDBL + b * xDBLWidth
            state.ssm.data.withUnsafeMutableBufferPointer {
                SelectiveScan.step(x: u + b * e, delta: delta + b * e, A: A, B: row + r, C: row + r + n, D: D,
                                   state: $0.baseAddress!, y: y + b * e, acrossWorkers: batch == 1)
            }
            Activations.gate(y + b * e, by: xz + b * xzWidth + e, count: e)                 // y · SiLU(z)
        }
        Linear.forward(y, rows: batch, weight: outProjection, bias: outProjectionBias, into: normed)
        for i in 0..<(batch * d) { hidden[i] = normed[i] + hidden[i] }                    // residual
    }
}
