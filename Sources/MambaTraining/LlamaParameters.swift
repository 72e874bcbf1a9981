import Foundation
import MambaLM
import TensorCore

/// Every trainable tensor of one Llama decoder layer (Hugging Face `LlamaForCausalLM` names, declared in
/// `LlamaTensors`), as a mutable value keyed by its declaration; an optional bias the configuration has not
/// is absent. The same type holds the gradients (`zeros()`).
/// Legend: D hidden_size, I intermediate_size, H heads, G key/value heads, P head_dim.
public struct LlamaLayerParameters: Sendable, AdaptableLayer {
    /// input_layernorm [D], q_proj [H·P, D], k_proj and v_proj [G·P, D], o_proj [D, H·P], post_attention_layernorm [D],
    /// gate_proj and up_proj [I, D], down_proj [D, I], and the biases of attention_bias / mlp_bias.
    public var tensors: [LlamaTensors: Tensor]
    /// LoRA branches by module suffix (self_attn.q_proj, mlp.down_proj, …).
    public var adapters: [String: LinearAdapter] = [:]

    public static var adaptableModules: [String] {
        [LlamaTensors.query, .key, .value, .output, .gate, .up, .down].map(\.module)
    }

    /// From the layer's module of a strictly loaded weight map, every tensor as Float32.
    public init(_ w: ModuleWeights<LlamaTensors>) {
        tensors = [:]
        for t in LlamaTensors.allCases { tensors[t] = w.tensorIfPresent(t) }
    }

    /// The tensor `t` declares (nil for a bias the configuration has not).
    public subscript(t: LlamaTensors) -> Tensor? { tensors[t] }

    /// Same shapes, all zeros (a gradient accumulator), adapters included.
    public func zeros() -> LlamaLayerParameters {
        var g = self
        g.tensors = tensors.mapValues { Tensor(zeros: $0.shape) }
        g.adapters = adapters.mapValues { $0.zeros() }
        return g
    }
}

/// Every trainable tensor of a Llama model: embed_tokens → decoder layers → norm → lm_head (tied or not),
/// as a mutable value; the same type holds the gradients (`zeros()`). Legend: V vocab, D hidden_size.
public struct LlamaParameters: Sendable {
    public let configuration: LlamaConfiguration
    public var embeddings: Tensor           // [V, D]  model.embed_tokens.weight
    public var layers: [LlamaLayerParameters]
    public var finalNorm: Tensor            // [D]     model.norm.weight
    /// [V, D] lm_head.weight; nil when tied (the head is then `embeddings`, and its gradient goes into theirs).
    public var lmHead: Tensor?
    /// The lm_head's LoRA branch, if any.
    public var headAdapter: LinearAdapter?

    public init(weights: WeightMap, configuration c: LlamaConfiguration) {
        configuration = c
        let w = ModuleWeights<LlamaModelTensors>(weights, configuration: c)
        embeddings = w.tensor(.embeddings)
        layers = (0..<c.numberOfLayers).map { LlamaLayerParameters(ModuleWeights(weights, prefix: LlamaModelTensors.layer($0), configuration: c)) }
        finalNorm = w.tensor(.finalNorm)
        lmHead = w.tensorIfPresent(.lmHead)
    }

    /// Loads a Llama checkpoint directory with the strict checks of `ModelLoader`.
    public init(directory: ModelDirectory) throws {
        guard let c = directory.configuration.llama else {
            throw LoadingError.unsupported(path: directory.url.appendingPathComponent("config.json").path,
                                           what: "this is not a Llama configuration; use MambaParameters or Mamba2Parameters")
        }
        self.init(weights: try WeightMap.load(from: directory, expected: LlamaModel.expectedWeights(c), sanitize: LlamaModel.sanitize(c)),
                  configuration: c)
    }

    /// The weight matrix of the lm_head [V, D].
    var head: Tensor { lmHead ?? embeddings }

    /// Same shapes, all zeros: the gradient accumulator.
    public func zeros() -> LlamaParameters {
        var g = self
        g.embeddings = Tensor(zeros: embeddings.shape)
        g.layers = layers.map { $0.zeros() }
        g.finalNorm = Tensor(zeros: finalNorm.shape)
        g.lmHead = lmHead.map { Tensor(zeros: $0.shape) }
        g.headAdapter = headAdapter?.zeros()
        return g
    }
}

extension LlamaParameters: TrainableModel {
    public var vocabularySize: Int { configuration.vocabularySize }
    public static var embeddingsName: String { LlamaModelTensors.embeddings.rawValue }

    /// Every tensor under its checkpoint name, sorted by name; a tied lm_head appears once, as
    /// model.embed_tokens.weight. LoRA branches appear under their PEFT names.
    public var named: [(String, Tensor)] {
        var list = LlamaModelTensors.named(configuration, prefix: "") { t in
            switch t {
            case .embeddings: embeddings
            case .finalNorm: finalNorm
            case .lmHead: lmHead
            }
        }
        list += LayerAdapters.tensors(layers, headAdapter: headAdapter, prefix: LlamaModelTensors.layer)
        for (i, layer) in layers.enumerated() { list += LlamaTensors.named(configuration, prefix: LlamaModelTensors.layer(i)) { layer[$0] } }
        return list.sorted { $0.0 < $1.0 }
    }

    public var adaptableModules: [String] { LayerAdapters.modules(layers, prefix: LlamaModelTensors.layer) }

    public mutating func attachAdapters(from w: WeightMap, options: AdapterOptions, passSeed: UInt64) {
        LayerAdapters.attach(&layers, headAdapter: &headAdapter, prefix: LlamaModelTensors.layer, from: w, options: options, passSeed: passSeed)
    }

    public static func untied(_ c: LlamaConfiguration) -> LlamaConfiguration {
        var c = c
        c.tieWordEmbeddings = false
        return c
    }

    public func lossAndGradients(ids: [Int], targets: [Int?], options: TrainingOptions) -> (loss: Double, gradients: LlamaParameters) {
        LlamaGradients.lossAndGradients(self, ids: ids, targets: targets, options: options)
    }
}
