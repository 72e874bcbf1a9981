/// A dense Float32 tensor in row-major order. Values live in a Swift array (copy-on-write), so a
/// `Tensor` is a value: copying it never aliases storage that someone else mutates.
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// Rows of a matrix viewed as [rows, columns] (all leading dimensions folded into rows).
    public var rows: Int { shape.count <= 1 ? 1 : count / columns }
    public var columns: Int { shape.last ?? 1 }

    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, data: data) }

    /// Rows `range` of a [rows, columns] tensor, as a new tensor.
    public func rows(_ range: Range<Int>) -> Tensor {
        if range == 0..<rows && rank >= 1 { return self }
        let c = columns
        var s = shape
        if s.isEmpty { s = [1] }
        s[0] = range.count
        return Tensor(shape: s, data: Array(data[(range.lowerBound * c)..<(range.upperBound * c)]))
    }

    public func row(_ index: Int) -> ArraySlice<Float> {
        data[(index * columns)..<((index + 1) * columns)]
    }

    /// `body(range, rows, &states[s])` for each of `segments` (row ranges covering the tensor in order, segment s
    /// a sequence carried by `states[s]`), the results stacked in order. One segment over every row passes the
    /// tensor itself, uncopied. Per-sequence ops (a conv, a scan with its own state) run this way over a batch
    /// whose rows are different sequences; the segments are spread over the workers, each touching only its own
    /// state, so every segment computes exactly what it would alone.
    public func bySegments<State>(_ segments: [Range<Int>], carrying states: inout [State],
                                  _ body: (Range<Int>, Tensor, inout State) -> Tensor) -> Tensor {
        precondition(segments.count == states.count, "bySegments: \(segments.count) segments for \(states.count) states")
        if segments.count == 1 && segments[0] == 0..<rows { return body(segments[0], self, &states[0]) }
        var parts = [Tensor](repeating: Tensor(zeros: [0]), count: segments.count)
        parts.withUnsafeMutableBufferPointer { out in
            states.withUnsafeMutableBufferPointer { carried in
                Parallel.forEachRange(segments.count) { range in
                    for s in range { out[s] = body(segments[s], rows(segments[s]), &carried[s]) }
                }
            }
        }
        return Tensor.concatenateRows(parts)
    }

    /// Rows of `parts` stacked in order; every part must have the same number of columns.
    public static func concatenateRows(_ parts: [Tensor]) -> Tensor {
        let c = parts.first?.columns ?? 0
        var data: [Float] = []
        data.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts {
            precondition(part.columns == c, "concatenateRows: column counts differ")
            data.append(contentsOf: part.data)
        }
        return Tensor(shape: [data.count / max(c, 1), c], data: data)
    }

    /// Largest absolute element-wise difference; shapes must match.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "maxAbsDifference: \(shape) vs \(other.shape)")
        var m: Float = 0
        for i in 0..<count { m = Swift.max(m, Swift.abs(data[i] - other.data[i])) }
        return m
    }
}

extension Optional where Wrapped == Tensor {
    /// `body` with the address of the elements, or nil when there is no tensor (an optional bias).
    public func withUnsafePointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let tensor = self else { return body(nil) }
        return tensor.data.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
