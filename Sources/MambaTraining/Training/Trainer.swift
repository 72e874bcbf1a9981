import Foundation
import TensorCore

/// The training loop of one run: each `step()` draws `accumulation` examples in the seeded data order,
/// averages their gradients, clips the global norm, and takes one AdamW step at the cosine schedule's rate.
public struct Trainer {
    public let objective: any TrainingObjective
    public let examples: [TrainingExample]
    public let settings: TrainingSettings
    public var state: TrainingState
    private var order: DataOrder
    private let optimizer: AdamW

    public init(objective: any TrainingObjective, examples: [TrainingExample], settings: TrainingSettings, state: TrainingState) {
        precondition(!examples.isEmpty, "Trainer: no examples")
        (self.objective, self.examples, self.settings, self.state) = (objective, examples, settings, state)
        order = DataOrder(count: examples.count, seed: settings.seed)
        optimizer = AdamW(weightDecay: settings.weightDecay)
    }

    public var isFinished: Bool { state.step >= settings.totalSteps }

    /// One optimizer step.
    @discardableResult
    public mutating func step() -> StepRecord {
        let start = Date()
        let learningRate = settings.learningRate * settings.schedule.factor(step: state.step)
        var sum: NamedTensors = [:]
        var loss = 0.0
        var tokens = 0
        for _ in 0..<settings.accumulation {
            let example = examples[order.next(&state.position)]
            let (exampleLoss, gradients) = objective.lossAndGradients(state.parameters, example: example,
                                                                      generator: &state.generator)
            Self.accumulate(gradients, into: &sum)
            loss += exampleLoss
            tokens += example.ids.count
        }
        let scale = 1 / Float(settings.accumulation)
        for name in sum.keys { sum[name]!.data.withUnsafeMutableBufferPointer { g in for i in 0..<g.count { g[i] *= scale } } }
        let norm = settings.maxGradientNorm.map { GradientClipping.clip(&sum, maxNorm: $0) } ?? GradientClipping.globalNorm(sum)
        optimizer.update(&state.parameters, gradients: sum, state: &state.optimizer, lr: learningRate)
        let record = StepRecord(step: state.step, loss: loss / Double(settings.accumulation), learningRate: learningRate,
                                gradientNorm: norm, tokens: tokens, seconds: Date().timeIntervalSince(start))
        state.history.append(record)
        return record
    }

    /// sum += gradients, tensor by tensor (a gradient seen first is taken as is).
    static func accumulate(_ gradients: NamedTensors, into sum: inout NamedTensors) {
        for (name, g) in gradients {
            if sum[name] == nil { sum[name] = g; continue }
            sum[name]!.data.withUnsafeMutableBufferPointer { t in
                g.data.withUnsafeBufferPointer { g in for i in 0..<t.count { t[i] += g[i] } }
            }
        }
    }
}
