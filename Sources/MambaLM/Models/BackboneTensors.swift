import TensorCore

/// The tensors of a Mamba or Mamba2 checkpoint around its layers (Hugging Face names). Legend: V vocab, D d_model.
public enum BackboneTensors: String, CheckpointTensors {
    case embeddings = "backbone.embeddings.weight"
    case finalNorm = "backbone.norm_f.weight"
    case lmHead = "lm_head.weight"

    public typealias Configuration = any BackboneConfiguration

    public func shape(_ c: any BackboneConfiguration) -> TensorShape? {
        switch self {
        case .embeddings: [c.vocabularySize, c.hiddenSize]
        case .finalNorm: [c.hiddenSize]
        case .lmHead: c.tieWordEmbeddings ? nil : [c.vocabularySize, c.hiddenSize]
        }
    }

    public static let streamed: Set<BackboneTensors> = [.embeddings, .lmHead]

    /// The prefix of layer `i`'s tensors.
    public static func layer(_ i: Int) -> String { "backbone.layers.\(i)" }

    /// The original state-spaces spelling of the embeddings (renamed at load).
    static let stateSpacesEmbeddings = "backbone.embedding.weight"
}
