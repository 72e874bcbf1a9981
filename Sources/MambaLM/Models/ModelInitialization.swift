import Foundation
import TensorCore

/// Fresh weights for pre-training from scratch, as transformers' `MambaPreTrainedModel._init_weights`
/// (and mamba_ssm's `_init_weights`) initialise them:
/// - linear and conv weights: PyTorch's default U(−1/√fan_in, 1/√fan_in); out_proj then scaled by 1/√layers
///   (`rescale_prenorm_residual`); linear biases 0;
/// - embeddings N(0, 0.02²); norms 1; D = 1;
/// - A: Mamba-1 A_log[c, s] = log(s + 1) (S4D-real); Mamba2 A_log[h] = log(U(1, 16));
/// - Δ: dt = exp(U(log 0.001, log 0.1)) floored at 1e-4, and the dt bias its inverse softplus,
///   dt + log(−expm1(−dt)), so softplus(bias) = dt at the start; Mamba-1's dt_proj weight U(±dt_rank^−½).
/// ReMamba's modules, when asked for: Query/Key/Value as default linear layers, Θ (ret_bias) 0, so stage 2 adds no offset before training.
public enum ModelInitialization {
    public static func weights(_ configuration: ModelConfiguration, includeReMamba: Bool, seed: UInt64) -> WeightMap {
        var generator = SeededGenerator(seed: seed)
        let names: ModelLoader.CheckpointNames, layers: Int
        switch configuration.architecture {
        case .mamba(let c): (names, layers) = (ModelLoader.CheckpointNames(MambaModel.self, c), c.numberOfLayers)
        case .mamba2(let c): (names, layers) = (ModelLoader.CheckpointNames(Mamba2Model.self, c), c.numberOfLayers)
        case .llama(let c):
            precondition(!includeReMamba, "ReMamba's modules belong to Mamba models")
            return llamaWeights(c, seed: seed)
        }
        let all = includeReMamba ? names.plain.merging(names.extra) { a, _ in a } : names.plain
        let kernel = all.first { $0.key.hasSuffix("conv1d.weight") }?.value.last ?? 1
        var tensors: [String: Tensor] = [:]
        // Sorted, so that the same seed gives the same weights whatever the dictionary order.
        for (name, shape) in all.sorted(by: { $0.key < $1.key }) {
            tensors[name] = initial(name, shape, layers: layers, convolutionKernel: kernel, generator: &generator)
        }
        return WeightMap(tensors: tensors)
    }

    static func initial(_ name: String, _ shape: [Int], layers: Int, convolutionKernel: Int,
                        generator g: inout SeededGenerator) -> Tensor {
        let count = shape.reduce(1, *)
        func uniform(_ bound: Float) -> Tensor { Tensor(shape: shape, data: (0..<count).map { _ in (2 * g.nextUniform() - 1) * bound }) }
        let fanIn = shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1
        switch name {
        case _ where name.hasSuffix("embeddings.weight"):
            return Tensor.randomNormal(shape, std: 0.02, generator: &g)
        case _ where name.hasSuffix("norm.weight") || name.hasSuffix("norm_f.weight") || name.hasSuffix(".D"):
            return Tensor(shape: shape, repeating: 1)
        case _ where name.hasSuffix("A_log"):
            if shape.count == 2 {   // Mamba-1 [E, N]: S4D-real, A = −(1 … N) in every channel
                return Tensor(shape: shape, data: (0..<count).map { Foundation.log(Float($0 % shape[1] + 1)) })
            }
            return Tensor(shape: shape, data: (0..<count).map { _ in Foundation.log(1 + 15 * g.nextUniform()) })
        case _ where name.hasSuffix("dt_proj.bias") || name.hasSuffix("dt_bias"):
            return Tensor(shape: shape, data: (0..<count).map { _ in inverseSoftplus(initialTimeStep(&g)) })
        case _ where name.hasSuffix("dt_proj.weight"):
            return uniform(1 / Float(shape[1]).squareRoot())
        case _ where name.hasSuffix("_proj.0.bias") || name.hasSuffix("_proj.2.bias"):   // Q/K/V: nn.Linear(D, D)'s bias
            return uniform(1 / Float(shape[0]).squareRoot())
        case _ where name.hasSuffix("ret_bias.param") || (name.hasSuffix(".bias") && !name.contains("conv1d")):
            return Tensor(zeros: shape)
        case _ where name.hasSuffix("out_proj.weight"):
            return uniform(1 / Float(fanIn).squareRoot() / Float(layers).squareRoot())
        default:  // in_proj, x_proj, conv1d, lm_head, Q/K/V: PyTorch's default (kaiming_uniform(a = √5) = U(±1/√fan_in))
            // conv1d is depthwise: weight [E, 1, k] and bias [E] both have fan_in k.
            return uniform(1 / Float(name.contains("conv1d") ? convolutionKernel : fanIn).squareRoot())
        }
    }

    /// dt = exp(U(log 0.001, log 0.1)), at least 1e-4.
    static func initialTimeStep(_ g: inout SeededGenerator) -> Float {
        let (low, high) = (Foundation.log(Float(0.001)), Foundation.log(Float(0.1)))
        return max(Foundation.exp(low + g.nextUniform() * (high - low)), 1e-4)
    }

    /// x such that softplus(x) = y.
    static func inverseSoftplus(_ y: Float) -> Float { y + Foundation.log(-Foundation.expm1(-y)) }
}
