import Foundation

/// transformers' `get_cosine_schedule_with_warmup` (num_cycles 0.5): the factor of the base learning rate
/// at optimizer step `step` (0-based, the scheduler's counter before that step's `scheduler.step()`):
///   step < warmup:  step / max(1, warmup)
///   otherwise:      max(0, ½·(1 + cos(π · (step − warmup) / max(1, total − warmup))))
public struct CosineSchedule: Sendable, Equatable {
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(warmupSteps: Int = 0, totalSteps: Int) {
        (self.warmupSteps, self.totalSteps) = (warmupSteps, totalSteps)
    }

    public func factor(step: Int) -> Double {
        if step < warmupSteps { return Double(step) / Double(max(1, warmupSteps)) }
        let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
        return max(0, 0.5 * (1 + cos(Double.pi * 2 * 0.5 * progress)))
    }
}
