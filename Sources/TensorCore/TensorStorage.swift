/// A pointer, or a struct of pointers, handed to worker closures (`Parallel.forEachRange`): the workers
/// touch disjoint parts of what it points to, which the compiler cannot see, hence `@unchecked`. The one
/// such wrapper of the kernels.
struct SendablePointer<Pointer>: @unchecked Sendable {
    let p: Pointer
    init(_ p: Pointer) { self.p = p }
}

extension Tensor {
    /// Runs `body` with the storage of `reading` (read only) and of `writing` (written in place), each in
    /// the order given: one call instead of a pyramid of nested `withUnsafe…BufferPointer` closures. The
    /// pointers are valid only inside `body`. Each tensor of `writing` is moved out of the array for the
    /// call (so a uniquely referenced one is written without a copy) and put back after.
    static func withStorage<R>(reading: [Tensor], writing: inout [Tensor],
                               _ body: ([UnsafePointer<Float>], [UnsafeMutablePointer<Float>]) -> R) -> R {
        var inputs: [UnsafePointer<Float>] = [], outputs: [UnsafeMutablePointer<Float>] = []
        func write(_ i: Int) -> R {
            if i == writing.count { return body(inputs, outputs) }
            var tensor = Tensor(zeros: [0])
            swap(&tensor, &writing[i])
            defer { swap(&tensor, &writing[i]) }
            return tensor.data.withUnsafeMutableBufferPointer { p in
                outputs.append(p.baseAddress!)
                return write(i + 1)
            }
        }
        func read(_ i: Int) -> R {
            if i == reading.count { return write(0) }
            return reading[i].data.withUnsafeBufferPointer { p in
                inputs.append(p.baseAddress!)
                return read(i + 1)
            }
        }
        return read(0)
    }

    /// `withStorage` writing two tensors in place (each moved out for the call and back).
    static func withStorage<R>(reading: [Tensor], writing first: inout Tensor, _ second: inout Tensor,
                               _ body: ([UnsafePointer<Float>], [UnsafeMutablePointer<Float>]) -> R) -> R {
        var written = [Tensor(zeros: [0]), Tensor(zeros: [0])]
        swap(&written[0], &first)
        swap(&written[1], &second)
        defer { swap(&written[0], &first); swap(&written[1], &second) }
        return withStorage(reading: reading, writing: &written, body)
    }
}
