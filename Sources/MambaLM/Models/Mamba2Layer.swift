import Foundation
import TensorCore

/// One residual block of Mamba-2: h ← h + Mixer(RMSNorm(h)), the mixer as transformers' `Mamba2Mixer`.
/// Legend: L length, D d_model, E d_inner = H·P, H heads, P head_dim, G groups, N d_state, k conv_kernel,
/// X = E + 2·G·N (the channels of the conv: x, B, C).
///
/// State (`LayerState`): conv [X, k] (the last k inputs of the conv, newest in column k−1, HF's
/// `conv_state`), ssm [H·P, N] (head h owns rows h·P ..< (h+1)·P; HF's `ssm_state` [H, P, N] flattened).
public struct Mamba2Layer: Sendable {
    /// How the SSM runs over more than one position. Both give the same result (to float rounding);
    /// one position always runs the recurrence.
    public enum Scan: Sendable {
        /// Chunked SSD: matrix products within chunks of `chunk_size`, state passed between them.
        case chunked
        /// The recurrence, position by position: the slow twin.
        case sequential
    }

    let norm: Tensor             // [D]
    let inProjection: Weight     // [E + X + H, D]
    let inProjectionBias: Tensor?
    let convolution: Tensor      // [X, k]
    let convolutionBias: Tensor? // [X]
    let dtBias: Tensor           // [H]
    let A: Tensor                // [H], = −exp(A_log)
    let D: Tensor                // [H]
    let gatedNorm: Tensor        // [E]
    let outProjection: Weight    // [D, E]
    let outProjectionBias: Tensor?
    let configuration: Mamba2Configuration

    static func expectedWeights(_ c: Mamba2Configuration, prefix p: String) -> [String: [Int]] {
        let (d, e, x, h, k) = (c.hiddenSize, c.innerSize, c.convolutionDimension, c.numberOfHeads, c.convolutionKernel)
        var w: [String: [Int]] = [
            "\(p).norm.weight": [d],
            "\(p).mixer.in_proj.weight": [c.inProjectionSize, d],
            "\(p).mixer.conv1d.weight": [x, 1, k],
            "\(p).mixer.dt_bias": [h],
            "\(p).mixer.A_log": [h],
            "\(p).mixer.D": [h],
            "\(p).mixer.norm.weight": [e],
            "\(p).mixer.out_proj.weight": [d, e],
        ]
        if c.useBias { w["\(p).mixer.in_proj.bias"] = [c.inProjectionSize]; w["\(p).mixer.out_proj.bias"] = [d] }
        if c.useConvolutionBias { w["\(p).mixer.conv1d.bias"] = [x] }
        return w
    }

    init(_ weights: WeightMap, prefix p: String, configuration c: Mamba2Configuration) {
        configuration = c
        norm = weights["\(p).norm.weight"]
        inProjection = weights.weight("\(p).mixer.in_proj.weight")
        inProjectionBias = weights.tensorIfPresent("\(p).mixer.in_proj.bias")
        convolution = weights["\(p).mixer.conv1d.weight"].reshaped([c.convolutionDimension, c.convolutionKernel])
        convolutionBias = weights.tensorIfPresent("\(p).mixer.conv1d.bias")
        dtBias = weights["\(p).mixer.dt_bias"]
        let aLog = weights["\(p).mixer.A_log"]
        A = Tensor(shape: aLog.shape, data: aLog.data.map { -Foundation.exp($0) })
        D = weights["\(p).mixer.D"]
        gatedNorm = weights["\(p).mixer.norm.weight"]
        outProjection = weights.weight("\(p).mixer.out_proj.weight")
        outProjectionBias = weights.tensorIfPresent("\(p).mixer.out_proj.bias")
    }

    func makeState() -> LayerState {
        let c = configuration
        return LayerState(conv: Tensor(zeros: [c.convolutionDimension, c.convolutionKernel]),
                          ssm: Tensor(zeros: [c.innerSize, c.stateSize]))
    }

    /// hidden [L, D] → hidden [L, D], carrying `state` across calls. `adapt`, when given, rewrites dt
    /// [L, H] (in_proj's dt columns, before dt_bias and softplus) at the positions it covers (ReMamba2,
    /// Eq. 8 per head: δ = dt·α + Θ_l).
    func forward(_ hidden: Tensor, state: inout LayerState, scan: Scan = .chunked,
                 adapt: ((inout Tensor) -> Void)? = nil) -> Tensor {
        LayerState.withBatch(of: &state) { forward(hidden, states: &$0, segments: [0..<hidden.rows], scan: scan, adapt: adapt) }
    }

    /// The rows of `hidden` [L, D] split into `segments`, segment s a sequence carried by `states[s]` (one
    /// segment: a prompt; one row each: a batch of decoding sequences).
    func forward(_ hidden: Tensor, states: inout [LayerState], segments: [Range<Int>], scan: Scan = .chunked,
                 adapt: ((inout Tensor) -> Void)? = nil) -> Tensor {
        let c = configuration
        let (e, h, gn) = (c.innerSize, c.numberOfHeads, c.numberOfGroups * c.stateSize)
        let normed = RMSNorm.forward(hidden, weight: norm, epsilon: c.layerNormEpsilon)           // [L, D]
        let projected = Linear.forward(normed, weight: inProjection, bias: inProjectionBias)    // [L, E + X + H]
        let (z, xBCdt) = splitColumns(projected, e, e + 2 * gn + h)                             // z [L, E]
        let (xBC, dt) = splitColumns(xBCdt, e + 2 * gn, h)                                      // [L, X], [L, H]
        var convolved = xBC.bySegments(segments) { s, _, x in
            CausalConv1d.forward(x, weight: convolution, bias: convolutionBias, state: &states[s].conv)
        }
        Activations.silu(&convolved)                                                            // [L, X]
        let (x, BC) = splitColumns(convolved, e, 2 * gn)                                        // x [L, E]
        let (B, C) = splitColumns(BC, gn, gn)                                                   // [L, G·N] each
        var delta = dt
        adapt?(&delta)
        addRowVector(&delta, dtBias)
        Activations.softplus(&delta)                                                            // Δ [L, H]
        clamp(&delta, to: c.timeStepLimit)
        let y = x.bySegments(segments) { s, rows, x in                                          // [L, E]
            if scan == .sequential || rows.count == 1 {
                return StateSpaceDuality.sequential(x: x, delta: delta.rows(rows), A: A, B: B.rows(rows), C: C.rows(rows), D: D,
                                                    groups: c.numberOfGroups, state: &states[s].ssm)
            }
            return StateSpaceDuality.chunked(x: x, delta: delta.rows(rows), A: A, B: B.rows(rows), C: C.rows(rows), D: D,
                                             groups: c.numberOfGroups, chunkSize: c.chunkSize, state: &states[s].ssm)
        }
        let gated = GatedRMSNorm.forward(y, gate: z, weight: gatedNorm, groupSize: c.normGroupSize,
                                         epsilon: c.layerNormEpsilon, normBeforeGate: c.normBeforeGate)  // [L, E]
        var out = Linear.forward(gated, weight: outProjection, bias: outProjectionBias)         // [L, D]
        for i in 0..<out.count { out.data[i] += hidden.data[i] }                                // residual
        return out
    }

    /// Δ ← min(max(Δ, lower), upper), as transformers' chunked path does (its one-token path does not
    /// clamp; here both do, so prefill and decoding agree). (0, ∞) changes nothing and is skipped.
    func clamp(_ delta: inout Tensor, to limit: ClosedRange<Float>) {
        if limit.lowerBound <= 0 && limit.upperBound == .infinity { return }
        for i in 0..<delta.count { delta.data[i] = min(max(delta.data[i], limit.lowerBound), limit.upperBound) }
    }
}
