import Foundation
import MambaLM
import TensorCore

/// The compression plan the official training draws for every sample (lblankl/ReMamba,
/// `Remambahf/src/model/ReMamba.py`, `MambaModel.forward`, the branch `if prompt_len>1600`):
///   st = 0 (the range always starts the prompt);
///   L > 1600:  to_len = min(ceil(L · U(0.1, 0.3)), L − 1500)
///   otherwise: to_len = max(1, ceil(L · 0.1))
///   ρ ~ U(0.05, 0.2),  K = ceil(to_len · ρ)
/// with Python floats (Double) and `math.ceil`, as `CompressionPlan` rounds. Seeded: the same generator
/// state gives the same plans.
public struct ReMambaRecipe: Sendable {
    public var generator: SeededGenerator

    public init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    /// A plan for a prompt of `promptLength` tokens (≥ 1).
    public mutating func plan(promptLength l: Int) -> CompressionPlan {
        precondition(l >= 1, "ReMambaRecipe: empty prompt")
        let length = l > 1600
            ? min(Int((Double(l) * uniform(0.1, 0.3)).rounded(.up)), l - 1500)
            : max(1, Int((Double(l) * 0.1).rounded(.up)))
        let keep = Int((Double(length) * uniform(0.05, 0.2)).rounded(.up))
        // K ≤ to_len ≤ L and the range starts at 0, so the plan always fits.
        return try! CompressionPlan(promptLength: l, start: 0, length: length, keep: keep)
    }

    /// Python's random.uniform(a, b) = a + (b − a)·U[0, 1).
    mutating func uniform(_ a: Double, _ b: Double) -> Double {
        a + (b - a) * Double(generator.next() >> 11) * 0x1p-53
    }
}
