/// The inputs of a scan (`SelectiveScan`, `StateSpaceDuality`) apart from its state: x [L, E], delta [L, E]
/// (Mamba-1) or [L, H] (Mamba-2) after softplus, A [E, N] or [H] (negative: −exp(A_log)), B, C [L, N] or
/// [L, G·N], D [E] or [H].
public struct ScanInputs: Sendable {
    public var x, delta, A, B, C, D: Tensor

    public init(x: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor) {
        (self.x, self.delta, self.A, self.B, self.C, self.D) = (x, delta, A, B, C, D)
    }

    /// x, delta, A, B, C, D, in this order.
    var tensors: [Tensor] { [x, delta, A, B, C, D] }
}

/// The gradients of a scan's inputs and of its initial state, each of its input's shape: what the
/// backwards return.
public struct ScanGradients: Sendable {
    public var x, delta, A, B, C, D, initialState: Tensor

    /// All zeros, for `inputs` and a state of `stateShape`.
    public init(zerosFor inputs: ScanInputs, stateShape: [Int]) {
        (x, delta, A) = (Tensor(zeros: inputs.x.shape), Tensor(zeros: inputs.delta.shape), Tensor(zeros: inputs.A.shape))
        (B, C, D) = (Tensor(zeros: inputs.B.shape), Tensor(zeros: inputs.C.shape), Tensor(zeros: inputs.D.shape))
        initialState = Tensor(zeros: stateShape)
    }

    /// `Tensor.withStorage` over `reading` and these gradients (x, delta, A, B, C, D, initialState, in this
    /// order), written in place: they are moved out for the call, so the writes copy nothing.
    mutating func withStorage<R>(reading: [Tensor],
                                 _ body: ([UnsafePointer<Float>], [UnsafeMutablePointer<Float>]) -> R) -> R {
        let empty = Tensor(zeros: [0])
        var tensors = [x, delta, A, B, C, D, initialState]
        (x, delta, A, B, C, D, initialState) = (empty, empty, empty, empty, empty, empty, empty)
        defer { (x, delta, A, B, C, D, initialState) = (tensors[0], tensors[1], tensors[2], tensors[3], tensors[4], tensors[5], tensors[6]) }
        return Tensor.withStorage(reading: reading, writing: &tensors, body)
    }
}
