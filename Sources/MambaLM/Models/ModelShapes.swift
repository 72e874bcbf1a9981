import Foundation
import TensorCore

/// The released sizes (state-spaces/mamba-*-hf and mamba2-*), for benchmarks with random weights; and `tiny`
/// (d_model 64, 2 layers, mamba-130m's vocabulary), which runs the benchmark machinery in seconds (tests).
public enum ModelShape: String, CaseIterable, Sendable {
    case tiny
    case m130 = "130m", m370 = "370m", m790 = "790m", b1_4 = "1.4b", b2_8 = "2.8b"
    case mamba2m130 = "mamba2-130m", mamba2m370 = "mamba2-370m", mamba2m780 = "mamba2-780m",
         mamba2b1_3 = "mamba2-1.3b", mamba2b2_7 = "mamba2-2.7b"

    /// d_model and layers of each released size.
    var dimensions: (model: Int, layers: Int) {
        switch self {
        case .tiny: (64, 2)
        case .m130, .mamba2m130: (768, 24)
        case .m370, .mamba2m370: (1024, 48)
        case .m790, .mamba2m780: (1536, 48)
        case .b1_4, .mamba2b1_3: (2048, 48)
        case .b2_8, .mamba2b2_7: (2560, 64)
        }
    }

    public var architecture: ModelConfiguration.Architecture {
        let (d, layers) = dimensions
        switch self {
        case .tiny, .m130, .m370, .m790, .b1_4, .b2_8:
            return .mamba(MambaConfiguration(vocabularySize: 50280, hiddenSize: d, numberOfLayers: layers))
        default:
            return .mamba2(Mamba2Configuration(vocabularySize: 50288, hiddenSize: d, stateSize: 128, numberOfLayers: layers,
                                               headDimension: 64, numberOfGroups: 1, tieWordEmbeddings: true))
        }
    }

    /// A model of this shape with seeded random weights, and its weights (with ReMamba's modules too);
    /// the streamed matrices stored as `dtype`, each converted as soon as it is drawn (so memory never
    /// holds the whole model in Float32).
    public func randomModel(seed: UInt64 = 0, dtype: WeightType = .f32) -> (any Backbone, WeightMap) {
        switch architecture {
        case .mamba(let c): return randomModel(MambaModel.self, c, seed: seed, dtype: dtype)
        case .mamba2(let c): return randomModel(Mamba2Model.self, c, seed: seed, dtype: dtype)
        case .llama:
            preconditionFailure("ModelShape has no Llama shapes (LlamaShape has)")
        }
    }
}

extension ModelShape {
    func randomModel<Layer>(_ model: BackboneModel<Layer>.Type, _ c: Layer.Configuration, seed: UInt64,
                            dtype: WeightType) -> (any Backbone, WeightMap) {
        let n = ModelLoader.CheckpointNames(model, c)
        let w = WeightMap.random(n.plain.merging(n.extra) { a, _ in a }, seed: seed, dtype: dtype)
        return (model.init(weights: w, configuration: c), w)
    }
}

extension WeightMap {
    /// Seeded random tensors of sane scale for the given names and shapes: matrices N(0, 1/fan_in),
    /// norms and D at 1, A_log = log(1 + 8|N(0,1)|) (decays between 1 and ~30), biases small.
    public static func random(_ expected: [String: [Int]], seed: UInt64, dtype: WeightType = .f32) -> WeightMap {
        var generator = SeededGenerator(seed: seed)
        var weights: [String: Weight] = [:]
        for (name, shape) in expected.sorted(by: { $0.key < $1.key }) {
            let fanIn = shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1
            var t = Tensor.randomNormal(shape, std: shape.count > 1 ? 1 / Float(fanIn).squareRoot() : 0.1, generator: &generator)
            if name.hasSuffix("A_log") { t = Tensor(shape: shape, data: t.data.map { Foundation.log(1 + Swift.abs($0) * 80) }) }
            if name.hasSuffix("norm.weight") || name.hasSuffix("norm_f.weight") || name.hasSuffix(".D") {
                t = Tensor(shape: shape, repeating: 1)
            }
            let stored = StreamedMatrices.contains(name) && dtype.canStore(columns: t.columns) ? dtype : .f32
            weights[name] = Weight(t, as: stored)
        }
        return WeightMap(weights: weights)
    }
}

extension ModelShape {
    /// The Mamba (v1) configuration of a v1 shape (nil for Mamba2 shapes).
    public var configuration: MambaConfiguration? {
        if case .mamba(let c) = architecture { return c }
        return nil
    }
}

extension MambaModel {
    /// A Mamba (v1) model with seeded random weights (benchmarks, tests).
    public static func random(_ c: MambaConfiguration, seed: UInt64 = 0) -> (MambaModel, WeightMap) {
        let w = WeightMap.random(expectedWeights(c), seed: seed)
        return (MambaModel(weights: w, configuration: c), w)
    }
}
