import MambaLM
import TensorCore

/// Query, Key or Value of ReMamba's stage 1 as trainable tensors: Linear(D, D) → SiLU → Linear(D, D), with
/// biases (the official `nn.Sequential`, hence the checkpoint indices 0 and 2), forward and backward.
/// `FeedForward` (MambaLM) is the immutable inference twin. Legend: R rows, D d_model.
public struct FeedForwardParameters: Sendable {
    public var weight0: Tensor   // [D, D]  FeedForwardTensors.weight0
    public var bias0: Tensor     // [D]
    public var weight2: Tensor   // [D, D]
    public var bias2: Tensor     // [D]

    public init(weight0: Tensor, bias0: Tensor, weight2: Tensor, bias2: Tensor) {
        (self.weight0, self.bias0, self.weight2, self.bias2) = (weight0, bias0, weight2, bias2)
    }

    init(_ w: ModuleWeights<FeedForwardTensors>) {
        (weight0, bias0) = (w.tensor(.weight0), w.tensor(.bias0))
        (weight2, bias2) = (w.tensor(.weight2), w.tensor(.bias2))
    }

    /// (checkpoint name under `prefix`, tensor) pairs.
    func named(prefix: String) -> [(String, Tensor)] {
        FeedForwardTensors.named(weight0.columns, prefix: prefix) { t in
            switch t {
            case .weight0: weight0
            case .bias0: bias0
            case .weight2: weight2
            case .bias2: bias2
            }
        }
    }

    func zeros() -> FeedForwardParameters {
        var g = self
        (g.weight0, g.bias0) = (Tensor(zeros: weight0.shape), Tensor(zeros: bias0.shape))
        (g.weight2, g.bias2) = (Tensor(zeros: weight2.shape), Tensor(zeros: bias2.shape))
        return g
    }
}

/// What the backward needs: the input and the pre-activation of the SiLU.
struct FeedForwardTape {
    let input: Tensor     // [R, D]
    let hidden: Tensor    // [R, D]  Linear₀(input), before SiLU
}

enum FeedForwardTraining {
    /// x [R, D] → ([R, D], tape).
    static func forward(_ x: Tensor, _ p: FeedForwardParameters) -> (Tensor, FeedForwardTape) {
        let hidden = Linear.forward(x, weight: p.weight0, bias: p.bias0)      // [R, D]
        var activated = hidden
        Activations.silu(&activated)
        return (Linear.forward(activated, weight: p.weight2, bias: p.bias2), FeedForwardTape(input: x, hidden: hidden))
    }

    /// dOut [R, D] → dx [R, D]; accumulates into `g`.
    static func backward(_ tape: FeedForwardTape, _ p: FeedForwardParameters, outputGradient dOut: Tensor,
                         gradients g: inout FeedForwardParameters) -> Tensor {
        var activated = tape.hidden
        Activations.silu(&activated)
        var dActivated = Tensor(zeros: activated.shape)
        var bias2: Tensor? = g.bias2
        Linear.backward(activated, weight: p.weight2, outputGradient: dOut, inputGradient: &dActivated,
                        weightGradient: &g.weight2, biasGradient: &bias2)
        g.bias2 = bias2!
        var dHidden = Tensor(zeros: tape.hidden.shape)
        Activations.siluBackward(tape.hidden, outputGradient: dActivated, inputGradient: &dHidden)
        var dx = Tensor(zeros: tape.input.shape)
        var bias0: Tensor? = g.bias0
        Linear.backward(tape.input, weight: p.weight0, outputGradient: dHidden, inputGradient: &dx,
                        weightGradient: &g.weight0, biasGradient: &bias0)
        g.bias0 = bias0!
        return dx
    }
}
