import TensorCore

/// Query, Key and Value of ReMamba's stage 1: Linear(D, D) → SiLU → Linear(D, D), with biases
/// (the official `nn.Sequential(Linear, SiLU, Linear)`, hence the checkpoint indices 0 and 2).
public struct FeedForward: Sendable {
    let weight0: Tensor, bias0: Tensor   // [D, D], [D]
    let weight2: Tensor, bias2: Tensor   // [D, D], [D]

    static func expectedWeights(prefix p: String, size d: Int) -> [String: [Int]] {
        ["\(p).0.weight": [d, d], "\(p).0.bias": [d], "\(p).2.weight": [d, d], "\(p).2.bias": [d]]
    }

    init(_ weights: WeightMap, prefix p: String) {
        weight0 = weights["\(p).0.weight"]; bias0 = weights["\(p).0.bias"]
        weight2 = weights["\(p).2.weight"]; bias2 = weights["\(p).2.bias"]
    }

    /// x [L, D] → [L, D].
    func callAsFunction(_ x: Tensor) -> Tensor {
        var hidden = Linear.forward(x, weight: weight0, bias: bias0)
        Activations.silu(&hidden)
        return Linear.forward(hidden, weight: weight2, bias: bias2)
    }
}
