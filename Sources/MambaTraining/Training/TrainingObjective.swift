import TensorCore

/// Tensors keyed by checkpoint name (`backbone.layers.0.mixer.in_proj.weight`, …): the one currency of the
/// trainer. Parameters, gradients and optimizer moments all use it, so any model plugs in by naming its
/// tensors as its checkpoint does.
public typealias NamedTensors = [String: Tensor]

/// One training sequence: `targets[t]` is the token position t must predict (nil: no loss there).
public struct TrainingExample: Sendable, Equatable {
    public var ids: [Int]
    public var targets: [Int?]
    /// Tokens of the prompt (the context ReMamba compresses); 0 for plain text.
    public var promptLength: Int

    public init(ids: [Int], targets: [Int?], promptLength: Int = 0) {
        precondition(ids.count == targets.count, "TrainingExample: \(ids.count) ids, \(targets.count) targets")
        (self.ids, self.targets, self.promptLength) = (ids, targets, promptLength)
    }

    /// Tokens that carry a loss.
    public var targetCount: Int { targets.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
}

/// A loss of a model over its parameters: the mean cross-entropy of one example and the gradient of every
/// parameter it was given. `generator` feeds any randomness of the objective (ReMamba's sampled
/// compression), so a resumed run draws the same numbers.
public protocol TrainingObjective {
    func lossAndGradients(_ parameters: NamedTensors, example: TrainingExample,
                          generator: inout SeededGenerator) -> (loss: Double, gradients: NamedTensors)
}
