import TensorCore

/// The released Mamba sizes (state-spaces/mamba-*-hf), for benchmarks with random weights.
public enum ModelShape: String, CaseIterable, Sendable {
    case m130 = "130m", m370 = "370m", m790 = "790m", b1_4 = "1.4b", b2_8 = "2.8b"

    public var configuration: MambaConfiguration {
        let (d, layers): (Int, Int) = switch self {
        case .m130: (768, 24)
        case .m370: (1024, 48)
        case .m790: (1536, 48)
        case .b1_4: (2048, 48)
        case .b2_8: (2560, 64)
        }
        return MambaConfiguration(vocabularySize: 50280, hiddenSize: d, numberOfLayers: layers)
    }
}

extension MambaModel {
    /// A model of the given configuration with seeded random weights of sane scale (benchmarks, tests).
    public static func random(_ c: MambaConfiguration, seed: UInt64 = 0, extra: [String: [Int]] = [:]) -> (MambaModel, WeightMap) {
        var generator = SeededGenerator(seed: seed)
        var tensors: [String: Tensor] = [:]
        for (name, shape) in expectedWeights(c).merging(extra, uniquingKeysWith: { a, _ in a }).sorted(by: { $0.key < $1.key }) {
            let fanIn = shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1
            var t = Tensor.randomNormal(shape, std: 1 / Float(fanIn).squareRoot(), generator: &generator)
            if name.hasSuffix("A_log") { t = Tensor(shape: shape, data: t.data.map { Foundation.log(1 + abs($0) * 8) }) }
            if name.hasSuffix("norm.weight") || name.hasSuffix("norm_f.weight") || name.hasSuffix(".D") {
                t = Tensor(shape: shape, repeating: 1)
            }
            tensors[name] = t
        }
        let weights = WeightMap(tensors: tensors)
        return (MambaModel(weights: weights, configuration: c), weights)
    }
}
import Foundation
