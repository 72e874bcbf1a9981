import Foundation

/// Opens a model directory and builds the model its config.json describes: plain, or ReMamba when
/// `compression` is given (the checkpoint must then carry ReMamba's tensors).
public enum ModelLoader {
    public static func load(_ directory: ModelDirectory, compression: CompressionSettings? = nil) throws -> any LanguageModel {
        switch directory.configuration.architecture {
        case .mamba(let c):
            let plain = MambaModel.expectedWeights(c)
            let extra = ReMambaModel<MambaModel>.expectedWeights(hiddenSize: c.hiddenSize, layers: c.numberOfLayers,
                                                                 deltaOffsetSize: c.innerSize)
            let hasReMamba = directory.tensorFiles["backbone.Q_proj.0.weight"] != nil
            guard let compression else {
                // A ReMamba checkpoint run as plain Mamba: its extra tensors are left unread.
                let sanitize = MambaModel.sanitize(c)
                let weights = try WeightMap.load(from: directory, expected: plain) { name in
                    hasReMamba && extra[name] != nil ? nil : sanitize(name)
                }
                return MambaModel(weights: weights, configuration: c)
            }
            guard hasReMamba else { throw CompressionError.notAReMambaCheckpoint(directory: directory.url.path) }
            let weights = try WeightMap.load(from: directory, expected: plain.merging(extra) { a, _ in a }, sanitize: MambaModel.sanitize(c))
            return ReMambaModel(base: MambaModel(weights: weights, configuration: c), weights: weights, settings: compression)
        }
    }
}
