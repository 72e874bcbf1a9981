import Foundation
import TensorCore

/// One residual block of Mamba-2: h ← h + Mixer(RMSNorm(h)), the mixer as transformers' `Mamba2Mixer`.
/// Legend: L length, D d_model, E d_inner = H·P, H heads, P head_dim, G groups, N d_state, k conv_kernel,
/// X = E + 2·G·N (the channels of the conv: x, B, C).
///
/// State (`LayerState`): conv [X, k] (the last k inputs of the conv, newest in column k−1, HF's
/// `conv_state`), ssm [H·P, N] (head h owns rows h·P ..< (h+1)·P; HF's `ssm_state` [H, P, N] flattened).
public struct Mamba2Layer: BackboneLayer {
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

    public init(_ w: ModuleWeights<Mamba2Tensors>) {
        configuration = w.configuration
        norm = w.tensor(.norm)
        inProjection = w.weight(.inProjection)
        inProjectionBias = w.tensorIfPresent(.inProjectionBias)
        convolution = w.tensor(.convolution)
        convolutionBias = w.tensorIfPresent(.convolutionBias)
        dtBias = w.tensor(.dtBias)
        A = stateMatrix(aLog: w.tensor(.aLog))
        D = w.tensor(.D)
        gatedNorm = w.tensor(.gatedNorm)
        outProjection = w.weight(.outProjection)
        outProjectionBias = w.tensorIfPresent(.outProjectionBias)
    }

    public func makeState() -> LayerState {
        let c = configuration
        return LayerState(conv: Tensor(zeros: [c.convolutionDimension, c.convolutionKernel]),
                          ssm: Tensor(zeros: [c.innerSize, c.stateSize]))
    }

    /// hidden [L, D] → hidden [L, D], carrying `state` across calls. `adapt`, when given, rewrites dt
    /// [L, H] (in_proj's dt columns, before dt_bias and softplus) at the positions it covers (ReMamba2,
    /// Eq. 8 per head: δ = dt·α + Θ_l).
    public func forward(_ hidden: Tensor, state: inout LayerState, options: Options = Options(),
                        adapt: ((inout Tensor) -> Void)? = nil) -> Tensor {
        LayerState.withBatch(of: &state) { forward(hidden, states: &$0, segments: [0..<hidden.rows], options: options, adapt: adapt) }
    }

    /// The rows of `hidden` [L, D] split into `segments`, segment s a sequence carried by `states[s]` (one
    /// segment: a prompt; one row each: a batch of decoding sequences).
    public func forward(_ hidden: Tensor, states: inout [LayerState], segments: [Range<Int>], options: Options = Options(),
                        adapt: ((inout Tensor) -> Void)? = nil) -> Tensor {
        let c = configuration
        let scan = options.scan
        let (e, h, gn) = (c.innerSize, c.numberOfHeads, c.numberOfGroups * c.stateSize)
        let normed = RMSNorm.forward(hidden, weight: norm, epsilon: c.layerNormEpsilon)           // [L, D]
        let projected = Linear.forward(normed, weight: inProjection, bias: inProjectionBias)    // [L, E + X + H]
        let (z, xBCdt) = ColumnBlocks.split(projected, e, e + 2 * gn + h)                             // z [L, E]
        let (xBC, dt) = ColumnBlocks.split(xBCdt, e + 2 * gn, h)                                      // [L, X], [L, H]
        var convolved = xBC.bySegments(segments, carrying: &states) { _, x, state in
            CausalConv1d.forward(x, weight: convolution, bias: convolutionBias, state: &state.conv)
        }
        Activations.silu(&convolved)                                                            // [L, X]
        let (x, BC) = ColumnBlocks.split(convolved, e, 2 * gn)                                        // x [L, E]
        let (B, C) = ColumnBlocks.split(BC, gn, gn)                                                   // [L, G·N] each
        var delta = dt
        adapt?(&delta)
        ColumnBlocks.addToEveryRow(&delta, dtBias)
        Activations.softplus(&delta)                                                            // Δ [L, H]
        clamp(&delta, to: c.timeStepLimit)
        let y = x.bySegments(segments, carrying: &states) { rows, x, state in  // [L, E]
            if scan == .sequential || rows.count == 1 {
                return StateSpaceDuality.sequential(x: x, delta: delta.rows(rows), A: A, B: B.rows(rows), C: C.rows(rows), D: D,
                                                    groups: c.numberOfGroups, state: &state.ssm)
            }
            return StateSpaceDuality.chunked(x: x, delta: delta.rows(rows), A: A, B: B.rows(rows), C: C.rows(rows), D: D,
                                             groups: c.numberOfGroups, chunkSize: c.chunkSize, state: &state.ssm)
        }
        let gated = GatedRMSNorm.forward(y, gate: z, weight: gatedNorm, groupSize: c.normGroupSize,
                                         epsilon: c.layerNormEpsilon, normBeforeGate: c.normBeforeGate)  // [L, E]
        var out = Linear.forward(gated, weight: outProjection, bias: outProjectionBias)         // [L, D]
        Activations.add(hidden, into: &out)                                                     // residual
        return out
    }

    /// Δ ← min(max(Δ, lower), upper), as transformers' chunked path does (its one-token path does not
    /// clamp; here both do, so prefill and decoding agree). (0, ∞) changes nothing and is skipped.
    func clamp(_ delta: inout Tensor, to limit: ClosedRange<Float>) {
        delta.data.withUnsafeMutableBufferPointer { if let p = $0.baseAddress { clamp(p, count: $0.count, to: limit) } }
    }

    func clamp(_ delta: UnsafeMutablePointer<Float>, count: Int, to limit: ClosedRange<Float>) {
        if limit.lowerBound <= 0 && limit.upperBound == .infinity { return }
        for i in 0..<count { delta[i] = min(max(delta[i], limit.lowerBound), limit.upperBound) }
    }
}

extension Mamba2Layer {
    /// How the layers run a prompt: the chunked SSD, or the recurrence (its slow twin).
    public struct Options: LayerOptions {
        public var scan: Scan = .chunked
        public init() {}
    }

    public static func deltaOffsetSize(_ c: Mamba2Configuration) -> Int { c.numberOfHeads }
    public static func configuration(_ file: ModelConfiguration) -> Mamba2Configuration? { file.mamba2 }
    public static var familyName: String { "Mamba2" }
}

/// The tensors of a Mamba-2 block under backbone.layers.N, as Hugging Face names them: the one declaration
/// that inference (`Mamba2Layer`), training (`Mamba2LayerParameters`) and the exporters read.
public enum Mamba2Tensors: String, CheckpointTensors {
    case norm = "norm.weight"                           // [D]
    case inProjection = "mixer.in_proj.weight"          // [E + X + H, D]
    case inProjectionBias = "mixer.in_proj.bias"        // [E + X + H] (use_bias)
    case convolution = "mixer.conv1d.weight"            // [X, 1, k], used as [X, k]
    case convolutionBias = "mixer.conv1d.bias"          // [X] (use_conv_bias)
    case dtBias = "mixer.dt_bias"                       // [H]
    case aLog = "mixer.A_log"                           // [H], A = −exp(A_log), a scalar per head
    case D = "mixer.D"                                  // [H]
    case gatedNorm = "mixer.norm.weight"                // [E]
    case outProjection = "mixer.out_proj.weight"        // [D, E]
    case outProjectionBias = "mixer.out_proj.bias"      // [D] (use_bias)

    public func shape(_ c: Mamba2Configuration) -> TensorShape? {
        let (d, e, x, h, k) = (c.hiddenSize, c.innerSize, c.convolutionDimension, c.numberOfHeads, c.convolutionKernel)
        switch self {
        case .norm: return [d]
        case .inProjection: return [c.inProjectionSize, d]
        case .inProjectionBias: return c.useBias ? [c.inProjectionSize] : nil
        case .convolution: return TensorShape(checkpoint: [x, 1, k], code: [x, k])
        case .convolutionBias: return c.useConvolutionBias ? [x] : nil
        case .dtBias: return [h]
        case .aLog: return [h]
        case .D: return [h]
        case .gatedNorm: return [e]
        case .outProjection: return [d, e]
        case .outProjectionBias: return c.useBias ? [d] : nil
        }
    }

    public static let streamed: Set<Mamba2Tensors> = [.inProjection, .outProjection]
}
