import MambaLM
import TensorCore

/// A language model as the plain next-token objective sees it (`BackboneObjective`, `TrainingTask`, `remamba grad`):
/// its tensors by checkpoint name, LoRA branches on its Linear modules, and the loss with every parameter's gradient.
/// Mamba-1 and Mamba-2 (`TrainableBackbone`, which adds what ReMamba needs) and Llama (`LlamaParameters`) are it.
/// The same value holds the gradients (`zeros()`).
public protocol TrainableModel: Sendable {
    associatedtype Configuration: Sendable

    init(weights: WeightMap, configuration: Configuration)
    /// Strictly loads `directory` if its config.json is of this family (the checks of `ModelLoader`).
    init(directory: ModelDirectory) throws
    var configuration: Configuration { get }
    var vocabularySize: Int { get }
    /// Every tensor under its checkpoint name, sorted by name (a tied lm_head appears once, as the embeddings).
    var named: [(String, Tensor)] { get }
    /// The embedding matrix's checkpoint name (what a tied lm_head is).
    static var embeddingsName: String { get }
    /// The modules whose training forward can carry a LoRA branch.
    var adaptableModules: [String] { get }
    /// LoRA branches taken from a weight map (`<module>.lora_A.weight`, `.lora_B.weight`), with this pass's dropout masks.
    mutating func attachAdapters(from w: WeightMap, options: AdapterOptions, passSeed: UInt64)
    /// The configuration with an lm_head of its own (LoRA's model of a tied base, see `LoRAModel`).
    static func untied(_ c: Configuration) -> Configuration
    /// The mean cross-entropy over the positions with a target (`targets[t]` the token position t must predict)
    /// and ∂loss/∂(every parameter), in a value shaped like the parameters.
    func lossAndGradients(ids: [Int], targets: [Int?], options: TrainingOptions) -> (loss: Double, gradients: Self)
}

extension TrainableModel {
    /// Every tensor by checkpoint name (the trainer's view).
    public var namedTensors: NamedTensors { Dictionary(uniqueKeysWithValues: named) }
}
