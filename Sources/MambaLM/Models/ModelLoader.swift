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
            return try build(directory, MambaModel.self, c, compression: compression, adapter: adapter, dtype: dtype)
        case .mamba2(let c):
            return try build(directory, Mamba2Model.self, c, compression: compression, adapter: adapter, dtype: dtype)
        case .llama(let c):
            let config = directory.url.appendingPathComponent("config.json").path
            if compression != nil { throw LoadingError.unsupported(path: config, what: "--remamba with a Llama model (ReMamba compresses Mamba states)") }
            let weights = try WeightMap.load(from: directory, adapter: adapter, expected: LlamaModel.expectedWeights(c),
                                             sanitize: LlamaModel.sanitize(c))
            return LlamaModel(weights: StreamedMatrices.convert(weights, to: dtype), configuration: c)
        }
    }

    /// Every tensor of the checkpoint, strictly checked and as stored: the model's, and ReMamba's when
    /// the checkpoint has them (what `remamba quantize` rewrites).
    public static func storedWeights(_ directory: ModelDirectory) throws -> WeightMap {
        let n: CheckpointNames
        switch directory.configuration.architecture {
        case .mamba(let c): n = CheckpointNames(MambaModel.self, c)
        case .mamba2(let c): n = CheckpointNames(Mamba2Model.self, c)
        case .llama(let c):
            return try WeightMap.load(from: directory, expected: LlamaModel.expectedWeights(c), sanitize: LlamaModel.sanitize(c))
        }
        let expected = n.hasReMamba(directory, adapter: nil) ? n.plain.merging(n.extra) { a, _ in a } : n.plain
        return try WeightMap.load(from: directory, expected: expected, sanitize: n.sanitize)
    }

    /// A family's tensor names: the plain model's, ReMamba's extra modules, and the checkpoint renames.
    public struct CheckpointNames {
        public let plain: [String: [Int]]
        public let extra: [String: [Int]]
        public let sanitize: (String) -> String?

        public init<Layer>(_: BackboneModel<Layer>.Type, _ c: Layer.Configuration) {
            plain = BackboneModel<Layer>.expectedWeights(c)
            extra = ReMambaModel<BackboneModel<Layer>>.expectedWeights(hiddenSize: c.hiddenSize, layers: c.numberOfLayers,
                                                                       deltaOffsetSize: Layer.deltaOffsetSize(c))
            sanitize = BackboneModel<Layer>.sanitize(c)
        }

        func hasReMamba(_ directory: ModelDirectory, adapter: PEFTAdapter?) -> Bool {
            directory.tensorFiles[ReMambaModules.marker] != nil || adapter?.providesWhole(ReMambaModules.marker) == true
        }
    }

    static func build<Layer>(_ directory: ModelDirectory, _ model: BackboneModel<Layer>.Type, _ c: Layer.Configuration,
                             compression: CompressionSettings?, adapter: PEFTAdapter?, dtype: WeightType?) throws -> any LanguageModel {
        let n = CheckpointNames(model, c)
        let hasReMamba = n.hasReMamba(directory, adapter: adapter)
        guard let compression else {
            // A ReMamba checkpoint run as the plain model: its extra tensors are left unread.
            let weights = try WeightMap.load(from: directory, adapter: adapter, expected: n.plain) { name in
                hasReMamba && n.extra[name] != nil ? nil : n.sanitize(name)
            }
            return model.init(weights: StreamedMatrices.convert(weights, to: dtype), configuration: c)
        }
        guard hasReMamba else { throw CompressionError.notAReMambaCheckpoint(directory: directory.url.path) }
        let weights = StreamedMatrices.convert(try WeightMap.load(from: directory, adapter: adapter,
                                                                  expected: n.plain.merging(n.extra) { a, _ in a }, sanitize: n.sanitize), to: dtype)
        return ReMambaModel(base: model.init(weights: weights, configuration: c), weights: weights, settings: compression)
    }
}
