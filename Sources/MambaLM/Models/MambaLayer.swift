import Foundation
import TensorCore

/// One residual block of Mamba: h ← h + Mixer(RMSNorm(h)).
/// Legend: L length, D d_model, E d_inner, N d_state, R dt_rank, k conv_kernel.
public struct MambaLayer: BackboneLayer {
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

    public init(_ w: ModuleWeights<MambaTensors>) {
        configuration = w.configuration
        norm = w.tensor(.norm)
        inProjection = w.weight(.inProjection)
        inProjectionBias = w.tensorIfPresent(.inProjectionBias)
        convolution = w.tensor(.convolution)
        convolutionBias = w.tensorIfPresent(.convolutionBias)
        xProjection = w.weight(.xProjection)
        dtProjection = w.weight(.dtProjection)
        dtProjectionBias = w.tensor(.dtProjectionBias)
        A = stateMatrix(aLog: w.tensor(.aLog))
        D = w.tensor(.D)
        outProjection = w.weight(.outProjection)
        outProjectionBias = w.tensorIfPresent(.outProjectionBias)
    }

    public func makeState() -> LayerState {
        LayerState(conv: Tensor(zeros: [configuration.innerSize, configuration.convolutionKernel]),
                   ssm: Tensor(zeros: [configuration.innerSize, configuration.stateSize]))
    }

    /// hidden [L, D] → hidden [L, D], carrying `state` across calls. `adapt`, when given, rewrites the
    /// pre-activation of Δ (dt_proj without its bias) at the positions it covers (ReMamba, Eq. 8).
    public func forward(_ hidden: Tensor, state: inout LayerState, options: Options = Options(),
                 adapt: ((inout Tensor) -> Void)? = nil) -> Tensor {
        LayerState.withBatch(of: &state) { forward(hidden, states: &$0, segments: [0..<hidden.rows], adapt: adapt) }
    }

    /// The rows of `hidden` [L, D] split into `segments`, segment s a sequence carried by `states[s]` (one
    /// segment: a prompt; one row each: a batch of decoding sequences, whose projections then read each
    /// weight once for all of them).
    public func forward(_ hidden: Tensor, states: inout [LayerState], segments: [Range<Int>], options: Options = Options(),
                 adapt: ((inout Tensor) -> Void)? = nil) -> Tensor {
        let c = configuration
        let (e, n, r) = (c.innerSize, c.stateSize, c.timeStepRank)
        let normed = RMSNorm.forward(hidden, weight: norm, epsilon: c.layerNormEpsilon)
        let xz = Linear.forward(normed, weight: inProjection, bias: inProjectionBias)          // [L, 2E]
        let (xIn, z) = ColumnBlocks.split(xz, e, e)                                                   // [L, E] each
        var u = xIn.bySegments(segments, carrying: &states) { _, x, state in
            CausalConv1d.forward(x, weight: convolution, bias: convolutionBias, state: &state.conv)
        }
        Activations.silu(&u)                                                                    // [L, E]
        let xDBL = Linear.forward(u, weight: xProjection)                                       // [L, R + 2N]
        let (dtLowRank, rest) = ColumnBlocks.split(xDBL, r, 2 * n)
        let (B, C) = ColumnBlocks.split(rest, n, n)                                                   // [L, N] each
        var delta = Linear.forward(dtLowRank, weight: dtProjection)                             // [L, E], no bias
        adapt?(&delta)
        ColumnBlocks.addToEveryRow(&delta, dtProjectionBias)
        Activations.softplus(&delta)                                                            // Δ = softplus(W r + b)
        var y = u.bySegments(segments, carrying: &states) { rows, x, state in
            SelectiveScan.forward(x: x, delta: delta.rows(rows), A: A, B: B.rows(rows), C: C.rows(rows), D: D, state: &state.ssm)
        }
        Activations.gate(&y, by: z)                                                             // y · SiLU(z)
        var out = Linear.forward(y, weight: outProjection, bias: outProjectionBias)             // [L, D]
        Activations.add(hidden, into: &out)                                                     // residual
        return out
    }
}

extension MambaLayer {
    /// Mamba-1 has one way to run a prompt (the selective scan): nothing to choose.
    public struct Options: LayerOptions {
        public init() {}
    }

    public static func deltaOffsetSize(_ c: MambaConfiguration) -> Int { c.innerSize }
    public static func configuration(_ file: ModelConfiguration) -> MambaConfiguration? { file.mamba }
    public static var familyName: String { "Mamba (v1)" }
}

/// The tensors of a Mamba-1 block under backbone.layers.N, as Hugging Face names them: the one declaration
/// that inference (`MambaLayer`), training (`MambaLayerParameters`) and the exporters read.
public enum MambaTensors: String, CheckpointTensors {
    case norm = "norm.weight"                           // [D]
    case inProjection = "mixer.in_proj.weight"          // [2E, D]
    case inProjectionBias = "mixer.in_proj.bias"        // [2E] (use_bias)
    case convolution = "mixer.conv1d.weight"            // [E, 1, k], used as [E, k]
    case convolutionBias = "mixer.conv1d.bias"          // [E] (use_conv_bias)
    case xProjection = "mixer.x_proj.weight"            // [R + 2N, E]
    case dtProjection = "mixer.dt_proj.weight"          // [E, R]
    case dtProjectionBias = "mixer.dt_proj.bias"        // [E]
    case aLog = "mixer.A_log"                           // [E, N], A = −exp(A_log)
    case D = "mixer.D"                                  // [E]
    case outProjection = "mixer.out_proj.weight"        // [D, E]
    case outProjectionBias = "mixer.out_proj.bias"      // [D] (use_bias)

    public func shape(_ c: MambaConfiguration) -> TensorShape? {
        let (d, e, n, r, k) = (c.hiddenSize, c.innerSize, c.stateSize, c.timeStepRank, c.convolutionKernel)
        switch self {
        case .norm: return [d]
        case .inProjection: return [2 * e, d]
        case .inProjectionBias: return c.useBias ? [2 * e] : nil
        case .convolution: return TensorShape(checkpoint: [e, 1, k], code: [e, k])
        case .convolutionBias: return c.useConvolutionBias ? [e] : nil
        case .xProjection: return [r + 2 * n, e]
        case .dtProjection: return [e, r]
        case .dtProjectionBias: return [e]
        case .aLog: return [e, n]
        case .D: return [e]
        case .outProjection: return [d, e]
        case .outProjectionBias: return c.useBias ? [d] : nil
        }
    }

    public static let streamed: Set<MambaTensors> = [.inProjection, .xProjection, .dtProjection, .outProjection]
}
