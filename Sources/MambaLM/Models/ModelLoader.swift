import Foundation

/// Opens a model directory and builds the model its config.json describes: plain, or ReMamba when
/// `compression` is given (the checkpoint must then carry ReMamba's tensors). With a PEFT LoRA `adapter`,
/// its weights are merged into the base's as `merge_and_unload` does; ReMamba's tensors may then come
/// from the adapter's modules_to_save (the layout of the authors' release).
public enum ModelLoader {
    public static func load(_ directory: ModelDirectory, compression: CompressionSettings? = nil,
                            adapter: PEFTAdapter? = nil) throws -> any LanguageModel {
        switch directory.configuration.architecture {
        case .mamba(let c):
            return try build(directory, compression: compression, adapter: adapter, expected: MambaModel.expectedWeights(c),
                             sanitize: MambaModel.sanitize(c), hiddenSize: c.hiddenSize, layers: c.numberOfLayers,
                             deltaOffsetSize: c.innerSize) { MambaModel(weights: $0, configuration: c) }
        case .mamba2(let c):
            return try build(directory, compression: compression, adapter: adapter, expected: Mamba2Model.expectedWeights(c),
                             sanitize: Mamba2Model.sanitize(c), hiddenSize: c.hiddenSize, layers: c.numberOfLayers,
                             deltaOffsetSize: c.numberOfHeads) { Mamba2Model(weights: $0, configuration: c) }
        case .llama(let c):
            let config = directory.url.appendingPathComponent("config.json").path
            if compression != nil { throw LoadingError.unsupported(path: config, what: "--remamba with a Llama model (ReMamba compresses Mamba states)") }
            if adapter != nil { throw LoadingError.unsupported(path: config, what: "PEFT adapters on a Llama model") }
            return LlamaModel(weights: try WeightMap.load(from: directory, expected: LlamaModel.expectedWeights(c), sanitize: LlamaModel.sanitize(c)),
                              configuration: c)
        }
    }

    static func build<Base: Backbone>(_ directory: ModelDirectory, compression: CompressionSettings?, adapter: PEFTAdapter?,
                                      expected plain: [String: [Int]],
                                      sanitize: @escaping (String) -> String?, hiddenSize: Int, layers: Int, deltaOffsetSize: Int,
                                      make: (WeightMap) -> Base) throws -> any LanguageModel {
        let extra = ReMambaModel<Base>.expectedWeights(hiddenSize: hiddenSize, layers: layers, deltaOffsetSize: deltaOffsetSize)
        let hasReMamba = directory.tensorFiles["backbone.Q_proj.0.weight"] != nil || adapter?.providesWhole("backbone.Q_proj.0.weight") == true
        guard let compression else {
            // A ReMamba checkpoint run as the plain model: its extra tensors are left unread.
            let weights = try WeightMap.load(from: directory, adapter: adapter, expected: plain) { name in
                hasReMamba && extra[name] != nil ? nil : sanitize(name)
            }
            return make(weights)
        }
        guard hasReMamba else { throw CompressionError.notAReMambaCheckpoint(directory: directory.url.path) }
        let weights = try WeightMap.load(from: directory, adapter: adapter, expected: plain.merging(extra) { a, _ in a },
                                         sanitize: sanitize)
        return ReMambaModel(base: make(weights), weights: weights, settings: compression)
    }
}
