import Foundation
import MambaLM
import TensorCore

/// One Mamba-2 block, h ← h + Mixer(RMSNorm(h)), for training: the forward of `Mamba2Layer.forward` (same
/// ops, same order, from a zero state) keeping what the backward needs, and the backward beside it.
/// Legend: L length, D d_model, E d_inner = H·P, H heads, G groups, N d_state, k conv_kernel,
/// X = E + 2·G·N (conv channels: x, B, C), K checkpoints of the scan, R ReMamba rows adapted (stage 2).
public struct Mamba2LayerTape: Sendable {
    let input: Tensor        // [L, D]  the residual stream entering the block
    let normed: Tensor       // [L, D]  RMSNorm(input)
    let z: Tensor            // [L, E]  gate (in_proj columns 0 ..< E)
    let xBC: Tensor          // [L, X]  conv1d input (in_proj columns E ..< E + X)
    let convOut: Tensor      // [L, X]  conv1d output before SiLU
    let dtRaw: Tensor        // [L, H]  in_proj's dt columns (adapted at ReMamba rows, Eq. 8) + dt_bias, before softplus
    let checkpoints: Tensor  // [K, E, N] SSD states every `checkpointSpacing` positions
    let y: Tensor            // [L, E]  SSD output (D skip included), before the gated norm
    let adaptation: LayerAdaptation?   // ReMamba2 stage 2: the per-head Δ adaptation this block ran with
    let dtAdapted: Tensor?   // [R, H]  in_proj's dt at the adapted rows, before the adaptation
    // Not kept (recomputed in the backward, element-wise): SiLU(convOut) = (x, B, C), Δ, A = −exp(A_log).
}

public enum Mamba2LayerTraining: LayerTraining {
    /// Δ = clamp(softplus(dtRaw), time_step_limit) [L, H], as `Mamba2Layer` (no clamp for (0, ∞)).
    static func delta(_ dtRaw: Tensor, _ c: Mamba2Configuration) -> Tensor {
        var delta = dtRaw
        Activations.softplus(&delta)
        if clamps(c) { for i in 0..<delta.count { delta.data[i] = clamp(delta.data[i], c.timeStepLimit) } }
        return delta
    }

    static func clamps(_ c: Mamba2Configuration) -> Bool {
        !(c.timeStepLimit.lowerBound <= 0 && c.timeStepLimit.upperBound == .infinity)
    }

    static func clamp(_ v: Float, _ limit: ClosedRange<Float>) -> Float { min(max(v, limit.lowerBound), limit.upperBound) }

    /// SSD states are kept every this many positions: scanChunk rounded up to a multiple of chunk_size, so
    /// the training forward runs the inference forward's SSD chunks (bit-identical logits), and the [E, N]
    /// states (N = 128 in the released models, 8× Mamba-1's) are kept at most once per SSD chunk.
    static func checkpointSpacing(_ scanChunk: Int, _ c: Mamba2Configuration) -> Int {
        (max(scanChunk, 1) + c.chunkSize - 1) / c.chunkSize * c.chunkSize
    }

    /// The conv output after SiLU split into x [L, E], B and C [L, G·N].
    static func ssmInputs(_ convOut: Tensor, _ c: Mamba2Configuration) -> (x: Tensor, B: Tensor, C: Tensor) {
        var u = convOut
        Activations.silu(&u)                                                                  // [L, X]
        let (e, gn) = (c.innerSize, c.numberOfGroups * c.stateSize)
        return (ColumnBlocks.slice(u, 0, e), ColumnBlocks.slice(u, e, gn), ColumnBlocks.slice(u, e + gn, gn))
    }

    /// hidden [L, D] → (hidden [L, D], tape), from a zero conv and SSM state; `adaptation` (ReMamba2 stage 2)
    /// rewrites in_proj's dt at its rows before dt_bias (Eq. 8 per head: δ = dt·α + Θ_l).
    public static func forward(_ hidden: Tensor, _ p: Mamba2LayerParameters, _ c: Mamba2Configuration,
                               scanChunk: Int, adaptation: LayerAdaptation? = nil) -> (Tensor, Mamba2LayerTape) {
        let (e, x, h) = (c.innerSize, c.convolutionDimension, c.numberOfHeads)
        let normed = RMSNorm.forward(hidden, weight: p.norm, epsilon: c.layerNormEpsilon)              // [L, D]
        let projected = AdaptedLinear.forward(normed, weight: p.inProjection, bias: p.inProjectionBias,
                                              adapter: p.adapters[BlockTraining.inProjection])         // [L, E + X + H]
        let z = ColumnBlocks.slice(projected, 0, e)                                                    // [L, E]
        let xBC = ColumnBlocks.slice(projected, e, x)                                                  // [L, X]
        var dtRaw = ColumnBlocks.slice(projected, e + x, h)                                            // [L, H]
        let dtAdapted = adaptation.map { dtRaw.rows($0.rows) }                                        // [R, H]
        adaptation?.apply(to: &dtRaw)                                                                  // Eq. 8: dt·α + Θ
        ColumnBlocks.addToEveryRow(&dtRaw, p.dtBias)
        var convState = Tensor(zeros: [x, c.convolutionKernel])
        let convOut = CausalConv1d.forward(xBC, weight: p.convolution, bias: p.convolutionBias, state: &convState)
        let (xs, B, C) = ssmInputs(convOut, c)
        var ssmState = Tensor(zeros: [e, c.stateSize])
        let (y, checkpoints) = StateSpaceDuality.chunkedSavingCheckpoints(
            ScanInputs(x: xs, delta: delta(dtRaw, c), A: stateMatrix(aLog: p.aLog), B: B, C: C, D: p.D), groups: c.numberOfGroups,
            chunkSize: c.chunkSize, state: &ssmState, chunk: checkpointSpacing(scanChunk, c))                                 // [L, E]
        let gated = GatedRMSNorm.forward(y, gate: z, weight: p.gatedNorm, groupSize: c.normGroupSize,
                                         epsilon: c.layerNormEpsilon, normBeforeGate: c.normBeforeGate) // [L, E]
        var out = AdaptedLinear.forward(gated, weight: p.outProjection, bias: p.outProjectionBias,
                                        adapter: p.adapters[BlockTraining.outProjection])              // [L, D]
        for i in 0..<out.count { out.data[i] += hidden.data[i] }                                       // residual
        let tape = Mamba2LayerTape(input: hidden, normed: normed, z: z, xBC: xBC, convOut: convOut, dtRaw: dtRaw,
                                   checkpoints: checkpoints, y: y, adaptation: adaptation, dtAdapted: dtAdapted)
        return (out, tape)
    }

    /// dOut = ∂loss/∂(block output) [L, D] → ∂loss/∂(block input) [L, D]; accumulates into `g`, and for a
    /// block that ran with `tape.adaptation`, dα and dΘ_l into `adaptationGradient`.
    public static func backward(_ tape: Mamba2LayerTape, _ p: Mamba2LayerParameters, _ c: Mamba2Configuration,
                                scanChunk: Int, outputGradient dOut: Tensor, gradients g: inout Mamba2LayerParameters,
                                adaptationGradient: inout LayerAdaptation.Gradient?) -> Tensor {
        let (l, e, h, gn) = (tape.input.rows, c.innerSize, c.numberOfHeads, c.numberOfGroups * c.stateSize)
        // out = out_proj(GatedRMSNorm(y, z)) + input
        let gated = GatedRMSNorm.forward(tape.y, gate: tape.z, weight: p.gatedNorm, groupSize: c.normGroupSize,
                                         epsilon: c.layerNormEpsilon, normBeforeGate: c.normBeforeGate)
        var dGated = Tensor(zeros: [l, e])
        AdaptedLinear.backward(gated, weight: p.outProjection, adapter: p.adapters[BlockTraining.outProjection],
                               outputGradient: dOut, inputGradient: &dGated, weightGradient: &g.outProjection,
                               biasGradient: &g.outProjectionBias, adapterGradient: &g.adapters[BlockTraining.outProjection])
        var dy = Tensor(zeros: [l, e]), dz = Tensor(zeros: [l, e])
        GatedRMSNorm.backward(tape.y, gate: tape.z, weight: p.gatedNorm, groupSize: c.normGroupSize,
                              epsilon: c.layerNormEpsilon, normBeforeGate: c.normBeforeGate, outputGradient: dGated,
                              inputGradient: &dy, gateGradient: &dz, weightGradient: &g.gatedNorm)
        // The SSD scan.
        let (xs, B, C) = ssmInputs(tape.convOut, c)
        let delta = delta(tape.dtRaw, c), a = stateMatrix(aLog: p.aLog)
        var scan = StateSpaceDuality.backward(ScanInputs(x: xs, delta: delta, A: a, B: B, C: C, D: p.D), groups: c.numberOfGroups,
                                              checkpoints: tape.checkpoints, chunk: checkpointSpacing(scanChunk, c), outputGradient: dy)
        for i in 0..<h { g.D.data[i] += scan.D.data[i] }
        for i in 0..<h { g.aLog.data[i] += scan.A.data[i] * a.data[i] }                // dA/dA_log = −exp(A_log) = A
        // Δ = clamp(softplus(dtRaw)): the clamp passes the gradient only where softplus(dtRaw) lies in
        // [lower, upper] (torch.clamp's rule, bounds included); dtRaw = in_proj's dt + dt_bias.
        if clamps(c) {
            var unclamped = tape.dtRaw
            Activations.softplus(&unclamped)
            for i in 0..<scan.delta.count where !c.timeStepLimit.contains(unclamped.data[i]) { scan.delta.data[i] = 0 }
        }
        var dDtRaw = Tensor(zeros: [l, h])
        Activations.softplusBackward(tape.dtRaw, outputGradient: scan.delta, inputGradient: &dDtRaw)
        for t in 0..<l { for j in 0..<h { g.dtBias.data[j] += dDtRaw.data[t * h + j] } }
        // dt = in_proj's dt except at the adapted rows (Eq. 8); dt_bias saw dδ unscaled.
        if let adaptation = tape.adaptation, let dtAdapted = tape.dtAdapted {
            precondition(adaptationGradient != nil, "Mamba2LayerTraining.backward: an adapted block needs an adaptation gradient")
            dDtRaw = adaptation.backward(weighted: dtAdapted, deltaGradient: dDtRaw, gradient: &adaptationGradient!)
        }
        // (x, B, C) = SiLU(conv1d(xBC))
        var dConvOut = Tensor(zeros: [l, c.convolutionDimension])
        Activations.siluBackward(tape.convOut, outputGradient: ColumnBlocks.concatenate([scan.x, scan.B, scan.C]),
                                 inputGradient: &dConvOut)
        var dXBC = Tensor(zeros: [l, c.convolutionDimension])
        CausalConv1d.backward(tape.xBC, weight: p.convolution,
                              initialState: Tensor(zeros: [c.convolutionDimension, c.convolutionKernel]),
                              outputGradient: dConvOut, inputGradient: &dXBC, weightGradient: &g.convolution,
                              biasGradient: &g.convolutionBias)
        // (z, xBC, dt) = in_proj(RMSNorm(input))
        let dProjected = ColumnBlocks.concatenate([dz, dXBC, dDtRaw])
        return BlockTraining.entryBackward(input: tape.input, normed: tape.normed, norm: p.norm, inProjection: p.inProjection,
                                           inProjectionAdapter: p.adapters[BlockTraining.inProjection],
                                           epsilon: c.layerNormEpsilon, projectedGradient: dProjected, outputGradient: dOut,
                                           normGradient: &g.norm, inProjectionGradient: &g.inProjection,
                                           inProjectionBiasGradient: &g.inProjectionBias,
                                           inProjectionAdapterGradient: &g.adapters[BlockTraining.inProjection])
    }
}
