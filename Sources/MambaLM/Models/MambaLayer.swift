import TensorCore

/// One residual block of Mamba: h ← h + Mixer(RMSNorm(h)).
/// Legend: L length, D d_model, E d_inner, N d_state, R dt_rank, k conv_kernel.
public struct MambaLayer: Sendable {
    let norm: Tensor            // [D]
    let inProjection: Weight    // [2E, D]
    let inProjectionBias: Tensor?
    let convolution: Tensor     // [E, k]
    let convolutionBias: Tensor?
    let xProjection: Weight     // [R + 2N, E]
    let dtProjection: Weight    // [E, R]
    let dtProjectionBias: Tensor // [E]
    let A: Tensor               // [E, N], = −exp(A_log)
    let D: Tensor               // [E]
    let outProjection: Weight   // [D, E]
    let outProjectionBias: Tensor?
    let configuration: MambaConfiguration

    static func expectedWeights(_ c: MambaConfiguration, prefix p: String) -> [String: [Int]] {
        let (d, e, n, r, k) = (c.hiddenSize, c.innerSize, c.stateSize, c.timeStepRank, c.convolutionKernel)
        var w: [String: [Int]] = [
            "\(p).norm.weight": [d],
            "\(p).mixer.in_proj.weight": [2 * e, d],
            "\(p).mixer.conv1d.weight": [e, 1, k],
            "\(p).mixer.x_proj.weight": [r + 2 * n, e],
            "\(p).mixer.dt_proj.weight": [e, r],
            "\(p).mixer.dt_proj.bias": [e],
            "\(p).mixer.A_log": [e, n],
            "\(p).mixer.D": [e],
            "\(p).mixer.out_proj.weight": [d, e],
        ]
        if c.useBias { w["\(p).mixer.in_proj.bias"] = [2 * e]; w["\(p).mixer.out_proj.bias"] = [d] }
        if c.useConvolutionBias { w["\(p).mixer.conv1d.bias"] = [e] }
        return w
    }

    init(_ weights: WeightMap, prefix p: String, configuration c: MambaConfiguration) {
        configuration = c
        norm = weights["\(p).norm.weight"]
        inProjection = weights.weight("\(p).mixer.in_proj.weight")
        inProjectionBias = weights.tensorIfPresent("\(p).mixer.in_proj.bias")
        convolution = weights["\(p).mixer.conv1d.weight"].reshaped([c.innerSize, c.convolutionKernel])
        convolutionBias = weights.tensorIfPresent("\(p).mixer.conv1d.bias")
        xProjection = weights.weight("\(p).mixer.x_proj.weight")
        dtProjection = weights.weight("\(p).mixer.dt_proj.weight")
        dtProjectionBias = weights["\(p).mixer.dt_proj.bias"]
        let aLog = weights["\(p).mixer.A_log"]
        A = Tensor(shape: aLog.shape, data: aLog.data.map { -Foundation.exp($0) })
        D = weights["\(p).mixer.D"]
        outProjection = weights.weight("\(p).mixer.out_proj.weight")
        outProjectionBias = weights.tensorIfPresent("\(p).mixer.out_proj.bias")
    }

    func makeState() -> LayerState {
        LayerState(conv: Tensor(zeros: [configuration.innerSize, configuration.convolutionKernel]),
                   ssm: Tensor(zeros: [configuration.innerSize, configuration.stateSize]))
    }

    /// hidden [L, D] → hidden [L, D], carrying `state` across calls. `adapt`, when given, rewrites the
    /// pre-activation of Δ (dt_proj without its bias) at the positions it covers (ReMamba, Eq. 8).
    func forward(_ hidden: Tensor, state: inout LayerState, adapt: ((inout Tensor) -> Void)? = nil) -> Tensor {
        LayerState.withBatch(of: &state) { forward(hidden, states: &$0, segments: [0..<hidden.rows], adapt: adapt) }
    }

    /// The rows of `hidden` [L, D] split into `segments`, segment s a sequence carried by `states[s]` (one
    /// segment: a prompt; one row each: a batch of decoding sequences, whose projections then read each
    /// weight once for all of them).
    func forward(_ hidden: Tensor, states: inout [LayerState], segments: [Range<Int>],
                 adapt: ((inout Tensor) -> Void)? = nil) -> Tensor {
        let c = configuration
        let (e, n, r) = (c.innerSize, c.stateSize, c.timeStepRank)
        let normed = RMSNorm.forward(hidden, weight: norm, epsilon: c.layerNormEpsilon)
        let xz = Linear.forward(normed, weight: inProjection, bias: inProjectionBias)          // [L, 2E]
        let (xIn, z) = splitColumns(xz, e, e)                                                   // [L, E] each
        var u = xIn.bySegments(segments) { s, _, x in
            CausalConv1d.forward(x, weight: convolution, bias: convolutionBias, state: &states[s].conv)
        }
        Activations.silu(&u)                                                                    // [L, E]
        let xDBL = Linear.forward(u, weight: xProjection)                                       // [L, R + 2N]
        let (dtLowRank, rest) = splitColumns(xDBL, r, 2 * n)
        let (B, C) = splitColumns(rest, n, n)                                                   // [L, N] each
        var delta = Linear.forward(dtLowRank, weight: dtProjection)                             // [L, E], no bias
        adapt?(&delta)
        addRowVector(&delta, dtProjectionBias)
        Activations.softplus(&delta)                                                            // Δ = softplus(W r + b)
        var y = u.bySegments(segments) { s, rows, x in
            SelectiveScan.forward(x: x, delta: delta.rows(rows), A: A, B: B.rows(rows), C: C.rows(rows), D: D, state: &states[s].ssm)
        }
        Activations.gate(&y, by: z)                                                             // y · SiLU(z)
        var out = Linear.forward(y, weight: outProjection, bias: outProjectionBias)             // [L, D]
        for i in 0..<out.count { out.data[i] += hidden.data[i] }                                // residual
        return out
    }
}

/// Columns [0, a) and [a, a + b) of a [L, a + b] matrix.
func splitColumns(_ m: Tensor, _ a: Int, _ b: Int) -> (Tensor, Tensor) {
    let l = m.rows
    precondition(m.columns == a + b, "splitColumns: \(m.shape) into \(a) + \(b)")
    var left = [Float](), right = [Float]()
    left.reserveCapacity(l * a)
    right.reserveCapacity(l * b)
    for t in 0..<l {
        left.append(contentsOf: m.data[(t * (a + b))..<(t * (a + b) + a)])
        right.append(contentsOf: m.data[(t * (a + b) + a)..<((t + 1) * (a + b))])
    }
    return (Tensor(shape: [l, a], data: left), Tensor(shape: [l, b], data: right))
}

/// m[t, :] += v for every row t.
func addRowVector(_ m: inout Tensor, _ v: Tensor) {
    let c = m.columns
    for t in 0..<m.rows { for j in 0..<c { m.data[t * c + j] += v.data[j] } }
}

import Foundation
