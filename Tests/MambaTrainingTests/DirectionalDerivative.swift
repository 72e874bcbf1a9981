import Foundation
@testable import MambaTraining
import TensorCore
import TestSupport

extension GradientCheck {
    /// An objective's `gradients` at `p` against central differences of its (Float32) loss along a random
    /// direction D per tensor, in name order: (L(θ + hD) − L(θ − hD)) / 2h ≈ ⟨∇L, D⟩ with h = 1e-3. Returns
    /// the worst |numeric − analytic| / max(1, |analytic|). Every loss is taken with the objective's generator
    /// seeded `objectiveSeed`, as `g` was (so ReMamba's plan and LoRA's dropout masks stay the same).
    static func worstDirectionalDifference(_ objective: any TrainingObjective, _ p: NamedTensors, gradients g: NamedTensors,
                                           example: TrainingExample, objectiveSeed: UInt64 = 0,
                                           directions generator: inout SeededGenerator) -> Double {
        var worst = 0.0
        for name in p.keys.sorted() {
            let direction = Tensor.randomNormal(p[name]!.shape, generator: &generator)
            let h: Float = 1e-3
            func loss(_ sign: Float) -> Double {
                var q = p
                for i in 0..<direction.count { q[name]!.data[i] += sign * h * direction.data[i] }
                var objectiveGenerator = SeededGenerator(seed: objectiveSeed)
                return objective.lossAndGradients(q, example: example, generator: &objectiveGenerator).loss
            }
            let numeric = (loss(1) - loss(-1)) / Double(2 * h)
            let analytic = zip(g[name]!.data, direction.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            worst = max(worst, abs(numeric - analytic) / max(1, abs(analytic)))
        }
        return worst
    }
}
