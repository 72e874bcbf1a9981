/// Hyper-parameters of a run. Defaults are the paper's (ReMamba, Training section): lr 2e-5, weight decay
/// 0.1, gradient clipping at 1.0, 16 sequences accumulated per optimizer step, cosine schedule.
public struct TrainingSettings: Codable, Sendable, Equatable {
    public var learningRate = 2e-5
    public var weightDecay = 0.1
    /// Clip the global gradient norm to this (nil: no clipping).
    public var maxGradientNorm: Double? = 1.0
    /// Sequences (batch 1 each) whose gradients are averaged into one optimizer step.
    public var accumulation = 16
    public var warmupSteps = 0
    /// Optimizer steps of the whole run (the cosine schedule's length).
    public var totalSteps: Int
    /// Seeds the data order and the objective's randomness.
    public var seed: UInt64 = 0
    /// `DataFingerprint` of the examples, so a resume on other data is refused (nil: not checked).
    public var dataFingerprint: UInt64?
    /// What is trained and how ("ReMamba, LoRA r 32 alpha 8 dropout 0.05 on …"), so a resume with another
    /// objective or other LoRA settings is refused (nil: not checked).
    public var objective: String?

    public init(totalSteps: Int) { self.totalSteps = totalSteps }

    var schedule: CosineSchedule { CosineSchedule(warmupSteps: warmupSteps, totalSteps: totalSteps) }

    /// "name: this → other" for every setting that differs (for the resume error).
    public func differences(to other: TrainingSettings) -> [String] {
        let pairs: [(String, String, String)] = [
            ("learning rate", "\(learningRate)", "\(other.learningRate)"), ("weight decay", "\(weightDecay)", "\(other.weightDecay)"),
            ("clip", "\(maxGradientNorm ?? 0)", "\(other.maxGradientNorm ?? 0)"), ("accumulation", "\(accumulation)", "\(other.accumulation)"),
            ("warm-up steps", "\(warmupSteps)", "\(other.warmupSteps)"), ("total steps", "\(totalSteps)", "\(other.totalSteps)"),
            ("seed", "\(seed)", "\(other.seed)"),
            ("data fingerprint", dataFingerprint.map { String($0, radix: 16) } ?? "none",
             other.dataFingerprint.map { String($0, radix: 16) } ?? "none"),
            ("objective", objective ?? "none", other.objective ?? "none"),
        ]
        return pairs.filter { $0.1 != $0.2 }.map { "\($0.0) \($0.1) → \($0.2)" }
    }
}

/// What one optimizer step did (a line of the JSONL log).
public struct StepRecord: Codable, Sendable, Equatable {
    public var step: Int
    /// Mean over the accumulated sequences of each sequence's mean cross-entropy.
    public var loss: Double
    public var learningRate: Double
    /// Global gradient norm before clipping.
    public var gradientNorm: Double
    /// Tokens processed (inputs) in this step.
    public var tokens: Int
    /// Wall-clock seconds of this step.
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case step, loss, tokens, seconds
        case learningRate = "lr", gradientNorm = "grad_norm"
    }
}

/// FNV-1a over every example's ids, targets and prompt length, in order: same data, same fingerprint.
public enum DataFingerprint {
    public static func of(_ examples: [TrainingExample]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ value: Int) {
            hash = (hash ^ UInt64(bitPattern: Int64(value))) &* 0x0000_0100_0000_01B3
        }
        for example in examples {
            mix(example.ids.count)
            mix(example.promptLength)
            for id in example.ids { mix(id) }
            for target in example.targets { mix(target ?? -1) }
        }
        return hash
    }
}
