import Foundation
import TensorCore

/// Opens a model directory and builds the model its config.json describes: plain, or ReMamba when
/// `compression` is given (the checkpoint must then carry ReMamba's tensors). With a PEFT LoRA `adapter`,
/// its weights are merged into the base's as `merge_and_unload` does; ReMamba's tensors may then come
/// from the adapter's modules_to_save (the layout of the authors' release). Weights stay as stored
/// (memory-mapped) unless `dtype` asks for another type, to which the streamed matrices are converted
/// at load (`StreamedMatrices`).
public enum ModelLoader {
    public static func load(_ directory: ModelDirectory, compression: CompressionSettings? = nil,
                            adapter: PEFTAdapter? = nil, dtype: WeightType? = nil) throws -> any LanguageModel {
        switch directory.configuration.architecture {
        case .mamba(let c):
            let names = names(MambaModel.self, MambaModel.expectedWeights(c), MambaModel.sanitize(c),
                              hiddenSize: c.hiddenSize, layers: c.numberOfLayers, deltaOffsetSize: c.innerSize)
            return try build(directory, names, compression: compression, adapter: adapter, dtype: dtype) { MambaModel(weights: $0, configuration: c) }
        case .mamba2(let c):
            let names = names(Mamba2Model.self, Mamba2Model.expectedWeights(c), Mamba2Model.sanitize(c),
                              hiddenSize: c.hiddenSize, layers: c.numberOfLayers, deltaOffsetSize: c.numberOfHeads)
            return try build(directory, names, compression: compression, adapter: adapter, dtype: dtype) { Mamba2Model(weights: $0, configuration: c) }
        case .llama(let c):
            let config = directory.url.appendingPathComponent("config.json").path
            if compression != nil { throw LoadingError.unsupported(path: config, what: "--remamba with a Llama model (ReMamba compresses Mamba states)") }
            if adapter != nil { throw LoadingError.unsupported(path: config, what: "PEFT adapters on a Llama model") }
            let weights = try WeightMap.load(from: directory, expected: LlamaModel.expectedWeights(c), sanitize: LlamaModel.sanitize(c))
            return LlamaModel(weights: StreamedMatrices.convert(weights, to: dtype), configuration: c)
        }
    }

    /// Every tensor of the checkpoint, strictly checked and as stored: the model's, and ReMamba's when
    /// the checkpoint has them (what `remamba quantize` rewrites).
    public static func storedWeights(_ directory: ModelDirectory) throws -> WeightMap {
        let n: CheckpointNames
        switch directory.configuration.architecture {
        case .mamba(let c):
            n = names(MambaModel.self, MambaModel.expectedWeights(c), MambaModel.sanitize(c),
                      hiddenSize: c.hiddenSize, layers: c.numberOfLayers, deltaOffsetSize: c.innerSize)
        case .mamba2(let c):
            n = names(Mamba2Model.self, Mamba2Model.expectedWeights(c), Mamba2Model.sanitize(c),
                      hiddenSize: c.hiddenSize, layers: c.numberOfLayers, deltaOffsetSize: c.numberOfHeads)
        case .llama(let c):
            return try WeightMap.load(from: directory, expected: LlamaModel.expectedWeights(c), sanitize: LlamaModel.sanitize(c))
        }
        let expected = n.hasReMamba(directory, adapter: nil) ? n.plain.merging(n.extra) { a, _ in a } : n.plain
        return try WeightMap.load(from: directory, expected: expected, sanitize: n.sanitize)
    }

    /// A family's tensor names: the plain model's, ReMamba's extra modules, and the checkpoint renames.
    struct CheckpointNames {
        let plain: [String: [Int]]
        let extra: [String: [Int]]
        let sanitize: (String) -> String?

        func hasReMamba(_ directory: ModelDirectory, adapter: PEFTAdapter?) -> Bool {
            directory.tensorFiles["backbone.Q_proj.0.weight"] != nil || adapter?.providesWhole("backbone.Q_proj.0.weight") == true
        }
    }

    static func names<Base: Backbone>(_: Base.Type, _ plain: [String: [Int]], _ sanitize: @escaping (String) -> String?,
                                      hiddenSize: Int, layers: Int, deltaOffsetSize: Int) -> CheckpointNames {
        CheckpointNames(plain: plain, extra: ReMambaModel<Base>.expectedWeights(hiddenSize: hiddenSize, layers: layers, deltaOffsetSize: deltaOffsetSize),
                        sanitize: sanitize)
    }

    static func build<Base: Backbone>(_ directory: ModelDirectory, _ n: CheckpointNames, compression: CompressionSettings?,
                                      adapter: PEFTAdapter?, dtype: WeightType?, make: (WeightMap) -> Base) throws -> any LanguageModel {
        let hasReMamba = n.hasReMamba(directory, adapter: adapter)
        guard let compression else {
            // A ReMamba checkpoint run as the plain model: its extra tensors are left unread.
            let weights = try WeightMap.load(from: directory, adapter: adapter, expected: n.plain) { name in
                hasReMamba && n.extra[name] != nil ? nil : n.sanitize(name)
            }
            return make(StreamedMatrices.convert(weights, to: dtype))
        }
        guard hasReMamba else { throw CompressionError.notAReMambaCheckpoint(directory: directory.url.path) }
        let weights = StreamedMatrices.convert(try WeightMap.load(from: directory, adapter: adapter,
                                                                  expected: n.plain.merging(n.extra) { a, _ in a }, sanitize: n.sanitize), to: dtype)
        return ReMambaModel(base: make(weights), weights: weights, settings: compression)
    }
}
