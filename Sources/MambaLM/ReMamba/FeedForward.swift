import TensorCore

/// Query, Key and Value of ReMamba's stage 1: Linear(D, D) → SiLU → Linear(D, D), with biases
/// (the official `nn.Sequential(Linear, SiLU, Linear)`, hence the checkpoint indices 0 and 2).
public struct FeedForward: Sendable {
    let weight0: Tensor, bias0: Tensor   // [D, D], [D]
    let weight2: Tensor, bias2: Tensor   // [D, D], [D]

    init(_ w: ModuleWeights<FeedForwardTensors>) {
        weight0 = w.tensor(.weight0); bias0 = w.tensor(.bias0)
        weight2 = w.tensor(.weight2); bias2 = w.tensor(.bias2)
    }

    /// x [L, D] → [L, D].
    func callAsFunction(_ x: Tensor) -> Tensor {
        var hidden = Linear.forward(x, weight: weight0, bias: bias0)
        Activations.silu(&hidden)
        return Linear.forward(hidden, weight: weight2, bias: bias2)
    }
}

/// The tensors of one of ReMamba's feed-forward modules (backbone.Q_proj, K_proj, V_proj), under the module:
/// `nn.Sequential(Linear, SiLU, Linear)`'s indices 0 and 2. The configuration is D.
public enum FeedForwardTensors: String, CheckpointTensors {
    case weight0 = "0.weight", bias0 = "0.bias", weight2 = "2.weight", bias2 = "2.bias"

    public func shape(_ d: Int) -> TensorShape? {
        switch self {
        case .weight0, .weight2: [d, d]
        case .bias0, .bias2: [d]
        }
    }

    public static let streamed: Set<FeedForwardTensors> = []
}

/// The modules ReMamba adds to its backbone's checkpoint (lblankl/ReMamba names): Query, Key and Value of
/// stage 1, and Θ_l of stage 2 in every layer.
public enum ReMambaModules: String, CaseIterable, Sendable {
    case query = "backbone.Q_proj", key = "backbone.K_proj", value = "backbone.V_proj"

    /// The tensor whose presence makes a checkpoint a ReMamba one.
    public static let marker = FeedForwardTensors.weight0.name(prefix: ReMambaModules.query.rawValue)
}

/// Θ_l of one layer, under backbone.layers.N (the paper's Θ, `deltaOffset` in code; docs/ARCHITECTURE.md). The configuration is Θ_l's size.
public enum DeltaOffsetTensors: String, CheckpointTensors {
    case deltaOffset = "mixer.ret_bias.param"

    public func shape(_ size: Int) -> TensorShape? { [size] }

    public static let streamed: Set<DeltaOffsetTensors> = []
}
