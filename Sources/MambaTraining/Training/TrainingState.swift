import TensorCore

/// Everything a run changes, and so everything a checkpoint holds for an exact resume: the trainable
/// tensors, AdamW's moments and step count, the data position, the objective's generator and the history.
public struct TrainingState: Sendable {
    public var parameters: NamedTensors
    public var optimizer = AdamW.State()
    public var position = DataPosition()
    public var generator: SeededGenerator
    public var history: [StepRecord] = []

    /// Optimizer steps taken.
    public var step: Int { optimizer.step }

    public init(parameters: NamedTensors, seed: UInt64) {
        self.parameters = parameters
        generator = SeededGenerator(seed: seed ^ 0x5EED_0B1E_C71E_0000)
    }
}
