import Foundation
import TensorCore

/// A scan problem (`SelectiveScan`, and with `groups` `StateSpaceDuality`): the kernel's inputs, an initial
/// state and an output gradient dy.
public struct ScanProblem {
    public var x, delta, A, B, C, D, state, dy: Tensor
    public var groups: Int

    public init(x: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor, state: Tensor, dy: Tensor, groups: Int = 1) {
        (self.x, self.delta, self.A, self.B, self.C, self.D, self.state, self.dy, self.groups) = (x, delta, A, B, C, D, state, dy, groups)
    }

    public var inputs: ScanInputs { ScanInputs(x: x, delta: delta, A: A, B: B, C: C, D: D) }
}

extension ScanGradients {
    public var all: [(String, Tensor)] { [("dx", x), ("dΔ", delta), ("dA", A), ("dB", B), ("dC", C), ("dD", D), ("dh0", initialState)] }
}

extension ScanProblem {
    /// Mamba's selective scan over L positions of E channels with N states: Δ = softplus(N(0,1)),
    /// A = −exp(N(0, 0.5²)) (as −exp(A_log)), x, B, C, D, h₀ and dy ~ N(0,1), the k-th of them seeded seed + k.
    public static func selectiveScan(length l: Int, channels e: Int, states n: Int, seed: UInt64) -> ScanProblem {
        var delta = TestInputs.normal([l, e], seed: seed + 1)
        Activations.softplus(&delta)
        let aLog = TestInputs.normal([e, n], std: 0.5, seed: seed + 2)
        return ScanProblem(x: TestInputs.normal([l, e], seed: seed), delta: delta,
                           A: Tensor(shape: [e, n], data: aLog.data.map { -Foundation.exp($0) }),
                           B: TestInputs.normal([l, n], seed: seed + 3), C: TestInputs.normal([l, n], seed: seed + 4),
                           D: TestInputs.normal([e], seed: seed + 5), state: TestInputs.normal([e, n], seed: seed + 6),
                           dy: TestInputs.normal([l, e], seed: seed + 7))
    }

    /// Mamba-2's scan (H heads of P channels, G groups of B and C, N states): Δ = softplus(N(0,1) + deltaShift),
    /// one A = −exp(N(0, 0.5²)) per head, x, B, C, D, h₀ and dy ~ N(0,1), seeded as `selectiveScan`.
    public static func stateSpaceDuality(length l: Int, heads h: Int, headDim p: Int, groups g: Int, states n: Int,
                                         seed: UInt64, deltaShift: Float = 0) -> ScanProblem {
        var delta = TestInputs.normal([l, h], seed: seed + 1)
        if deltaShift != 0 { delta.data = delta.data.map { $0 + deltaShift } }
        Activations.softplus(&delta)
        let aLog = TestInputs.normal([h], std: 0.5, seed: seed + 2)
        return ScanProblem(x: TestInputs.normal([l, h * p], seed: seed), delta: delta,
                           A: Tensor(shape: [h], data: aLog.data.map { -Foundation.exp($0) }),
                           B: TestInputs.normal([l, g * n], seed: seed + 3), C: TestInputs.normal([l, g * n], seed: seed + 4),
                           D: TestInputs.normal([h], seed: seed + 5), state: TestInputs.normal([h * p, n], seed: seed + 6),
                           dy: TestInputs.normal([l, h * p], seed: seed + 7), groups: g)
    }
}
