import Foundation
import MambaLM
import TensorCore

/// One Mamba block, h ← h + out_proj(SSM(…)), for training: the forward of `MambaLayer.forward` (same ops,
/// same order, from a zero state) keeping what the backward needs, and the backward beside it.
/// Legend: L length, D d_model, E d_inner, N d_state, R dt_rank, k conv_kernel.
public struct MambaLayerTape: Sendable {
    let input: Tensor        // [L, D]  the residual stream entering the block
    let normed: Tensor       // [L, D]  RMSNorm(input)
    let xIn: Tensor          // [L, E]  conv1d input (first half of in_proj)
    let z: Tensor            // [L, E]  gate (second half of in_proj)
    let convOut: Tensor      // [L, E]  conv1d output before SiLU
    let dtLowRank: Tensor    // [L, R]
    let B: Tensor            // [L, N]
    let C: Tensor            // [L, N]
    let deltaRaw: Tensor     // [L, E]  δ + bias before softplus: δ = dt_proj(dtLowRank), adapted at ReMamba rows (Eq. 8)
    let checkpoints: Tensor  // [⌈L/chunk⌉, E, N] scan states at chunk starts
    let y: Tensor            // [L, E]  scan output before the gate
    let adaptation: LayerAdaptation?   // ReMamba stage 2: the Δ adaptation this block ran with
    // Not kept (recomputed in the backward, element-wise): u = SiLU(convOut), Δ = softplus(deltaRaw),
    // A = −exp(A_log), the gated output y ⊙ SiLU(z).
}

public enum MambaLayerTraining: LayerTraining {
    static let xProjection = MambaTensors.xProjection.module, dtProjection = MambaTensors.dtProjection.module

    /// hidden [L, D] → (hidden [L, D], tape), from a zero conv and SSM state; `adaptation` (ReMamba stage 2)
    /// rewrites δ at its rows (Eq. 8).
    public static func forward(_ hidden: Tensor, _ p: MambaLayerParameters, _ c: MambaConfiguration,
                               scanChunk: Int, adaptation: LayerAdaptation? = nil) -> (Tensor, MambaLayerTape) {
        let (e, n, r, k) = (c.innerSize, c.stateSize, c.timeStepRank, c.convolutionKernel)
        let normed = RMSNorm.forward(hidden, weight: p.norm, epsilon: c.layerNormEpsilon)
        let xz = AdaptedLinear.forward(normed, weight: p.inProjection, bias: p.inProjectionBias,
                                       adapter: p.adapters[BlockTraining.inProjection])                // [L, 2E]
        let xIn = ColumnBlocks.slice(xz, 0, e), z = ColumnBlocks.slice(xz, e, e)                     // [L, E] each
        var convState = Tensor(zeros: [e, k])
        let convOut = CausalConv1d.forward(xIn, weight: p.convolution, bias: p.convolutionBias, state: &convState)
        var u = convOut
        Activations.silu(&u)                                                                          // [L, E]
        let xDBL = AdaptedLinear.forward(u, weight: p.xProjection, adapter: p.adapters[xProjection])   // [L, R + 2N]
        let dtLowRank = ColumnBlocks.slice(xDBL, 0, r)
        let B = ColumnBlocks.slice(xDBL, r, n), C = ColumnBlocks.slice(xDBL, r + n, n)               // [L, N] each
        var deltaRaw = AdaptedLinear.forward(dtLowRank, weight: p.dtProjection, adapter: p.adapters[dtProjection]) // [L, E] W r
        adaptation?.apply(to: &deltaRaw)                                                              // Eq. 8: (W r)·α + Θ
        ColumnBlocks.addToEveryRow(&deltaRaw, p.dtProjectionBias)
        var delta = deltaRaw
        Activations.softplus(&delta)                                                                  // Δ = softplus(δ + b)
        var ssmState = Tensor(zeros: [e, n])
        let (y, checkpoints) = SelectiveScan.forwardSavingCheckpoints(ScanInputs(x: u, delta: delta, A: stateMatrix(aLog: p.aLog),
                                                                                 B: B, C: C, D: p.D),
                                                                      state: &ssmState, chunk: scanChunk)
        var gated = y
        Activations.gate(&gated, by: z)                                                               // y · SiLU(z)
        var out = AdaptedLinear.forward(gated, weight: p.outProjection, bias: p.outProjectionBias,
                                        adapter: p.adapters[BlockTraining.outProjection])             // [L, D]
        for i in 0..<out.count { out.data[i] += hidden.data[i] }                                      // residual
        let tape = MambaLayerTape(input: hidden, normed: normed, xIn: xIn, z: z, convOut: convOut, dtLowRank: dtLowRank,
                                  B: B, C: C, deltaRaw: deltaRaw, checkpoints: checkpoints, y: y,
                                  adaptation: adaptation)
        return (out, tape)
    }

    /// dOut = ∂loss/∂(block output) [L, D] → ∂loss/∂(block input) [L, D]; accumulates into `g`.
    static func backward(_ tape: MambaLayerTape, _ p: MambaLayerParameters, _ c: MambaConfiguration, scanChunk: Int,
                         outputGradient dOut: Tensor, gradients g: inout MambaLayerParameters) -> Tensor {
        var none: LayerAdaptation.Gradient? = nil
        return backward(tape, p, c, scanChunk: scanChunk, outputGradient: dOut, gradients: &g, adaptationGradient: &none)
    }

    /// The same, for a block that ran with `tape.adaptation`: also accumulates dα and dΘ_l into `adaptationGradient`.
    public static func backward(_ tape: MambaLayerTape, _ p: MambaLayerParameters, _ c: MambaConfiguration, scanChunk: Int,
                                outputGradient dOut: Tensor, gradients g: inout MambaLayerParameters,
                                adaptationGradient: inout LayerAdaptation.Gradient?) -> Tensor {
        let (l, e, n, r) = (tape.input.rows, c.innerSize, c.stateSize, c.timeStepRank)
        let zerosLE = Tensor(zeros: [l, e])
        // out = out_proj(y ⊙ SiLU(z)) + input
        var gated = tape.y
        Activations.gate(&gated, by: tape.z)
        var dGated = zerosLE
        AdaptedLinear.backward(gated, weight: p.outProjection, adapter: p.adapters[BlockTraining.outProjection],
                               outputGradient: dOut, inputGradient: &dGated, weightGradient: &g.outProjection,
                               biasGradient: &g.outProjectionBias, adapterGradient: &g.adapters[BlockTraining.outProjection])
        var dy = zerosLE, dz = zerosLE
        Activations.gateBackward(tape.y, by: tape.z, outputGradient: dGated, inputGradient: &dy, gateGradient: &dz)
        // The scan.
        var u = tape.convOut
        Activations.silu(&u)
        var delta = tape.deltaRaw
        Activations.softplus(&delta)
        let a = stateMatrix(aLog: p.aLog)
        var scan = SelectiveScan.backward(ScanInputs(x: u, delta: delta, A: a, B: tape.B, C: tape.C, D: p.D),
                                          checkpoints: tape.checkpoints, chunk: scanChunk, outputGradient: dy)
        for i in 0..<g.D.count { g.D.data[i] += scan.D.data[i] }
        for i in 0..<scan.A.count { g.aLog.data[i] += scan.A.data[i] * a.data[i] }          // dA/dA_log = −exp(A_log) = A
        // Δ = softplus(δ + b), δ = W r except at the adapted rows (Eq. 8); the bias sees dδ unscaled.
        var dDeltaRaw = zerosLE
        Activations.softplusBackward(tape.deltaRaw, outputGradient: scan.delta, inputGradient: &dDeltaRaw)
        Linear.accumulateColumnSums(dDeltaRaw, into: &g.dtProjectionBias)
        if let adaptation = tape.adaptation {
            precondition(adaptationGradient != nil, "MambaLayerTraining.backward: an adapted block needs an adaptation gradient")
            let weighted = AdaptedLinear.forward(tape.dtLowRank.rows(adaptation.rows), weight: p.dtProjection,
                                                 adapter: p.adapters[dtProjection], firstRow: adaptation.rows.lowerBound) // [K, E] W r
            dDeltaRaw = adaptation.backward(weighted: weighted, deltaGradient: dDeltaRaw, gradient: &adaptationGradient!)
        }
        var dDtLowRank = Tensor(zeros: [l, r])
        AdaptedLinear.backward(tape.dtLowRank, weight: p.dtProjection, adapter: p.adapters[dtProjection], outputGradient: dDeltaRaw,
                               inputGradient: &dDtLowRank, weightGradient: &g.dtProjection, adapterGradient: &g.adapters[dtProjection])
        // x_proj: u → (dtLowRank, B, C); u is also the scan's x, whose gradient scan.x already holds.
        let dXDBL = ColumnBlocks.concatenate([dDtLowRank, scan.B, scan.C])
        AdaptedLinear.backward(u, weight: p.xProjection, adapter: p.adapters[xProjection], outputGradient: dXDBL,
                               inputGradient: &scan.x, weightGradient: &g.xProjection, adapterGradient: &g.adapters[xProjection])
        // u = SiLU(conv1d(xIn))
        var dConvOut = zerosLE
        Activations.siluBackward(tape.convOut, outputGradient: scan.x, inputGradient: &dConvOut)
        var dXIn = zerosLE
        CausalConv1d.backward(tape.xIn, weight: p.convolution, initialState: Tensor(zeros: [e, c.convolutionKernel]),
                              outputGradient: dConvOut, inputGradient: &dXIn, weightGradient: &g.convolution,
                              biasGradient: &g.convolutionBias)
        // (xIn, z) = in_proj(RMSNorm(input))
        let dXZ = ColumnBlocks.concatenate([dXIn, dz])
        return BlockTraining.entryBackward(input: tape.input, normed: tape.normed, norm: p.norm, inProjection: p.inProjection,
                                           inProjectionAdapter: p.adapters[BlockTraining.inProjection],
                                           epsilon: c.layerNormEpsilon, projectedGradient: dXZ, outputGradient: dOut,
                                           normGradient: &g.norm, inProjectionGradient: &g.inProjection,
                                           inProjectionBiasGradient: &g.inProjectionBias,
                                           inProjectionAdapterGradient: &g.adapters[BlockTraining.inProjection])
    }
}
