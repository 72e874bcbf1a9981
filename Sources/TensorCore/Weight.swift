/// How a weight matrix's numbers are stored.
/// - `f32`, `f16`, `bf16`: one value per element (IEEE single, IEEE half, bfloat16).
/// - `q8_0`: int8 values in blocks of 32 along the row, each block with one Float16 scale
///   (value = scale · q, llama.cpp's Q8_0): 1.0625 bytes per element. Rows must be a multiple of 32 long.
public enum WeightType: String, Sendable, CaseIterable, Codable {
    case f32, f16, bf16, q8_0

    /// Elements per Q8_0 block (along a row).
    public static let blockSize = 32

    /// Bytes of one element's value (scales not counted).
    public var valueSize: Int {
        switch self { case .f32: 4; case .f16, .bf16: 2; case .q8_0: 1 }
    }

    /// Whether a matrix whose rows have `columns` elements can be stored this way.
    public func canStore(columns: Int) -> Bool { self != .q8_0 || columns % Self.blockSize == 0 }
}

/// A weight tensor as stored: Float32, Float16, BFloat16 or Q8_0, in memory that is a read-only view
/// into a memory-mapped checkpoint (zero-copy), a buffer this value owns, or a Float32 `Tensor` (shared,
/// copy-on-write: wrapping a tensor copies nothing). Immutable; `Tensor` stays the Float32 activation
/// type. Kernels read it through `withValues`. Legend: a matrix is [rows, columns] (PyTorch's [out, in]).
public struct Weight: @unchecked Sendable {
    public let shape: [Int]
    public let type: WeightType
    let storage: Storage

    enum Storage {
        case tensor(Tensor)
        /// `values` row-major (`type.valueSize` bytes each); Q8_0 scales [rows, columns / 32]; `owner`
        /// keeps both alive (the mapped file, or an `OwnedWeightBuffer`).
        case memory(values: UnsafeRawPointer, scales: UnsafePointer<Float16>?, owner: AnyObject)
    }

    /// A view of memory that `owner` keeps alive (a mapped file's tensor, say).
    public init(shape: [Int], type: WeightType, values: UnsafeRawPointer, scales: UnsafePointer<Float16>? = nil, owner: AnyObject) {
        precondition((type == .q8_0) == (scales != nil), "Weight: Q8_0 needs scales, other types have none")
        precondition(type.canStore(columns: shape.last ?? 1), "Weight: Q8_0 rows must be a multiple of 32, shape \(shape)")
        self.shape = shape
        self.type = type
        storage = .memory(values: values, scales: scales, owner: owner)
    }

    /// `tensor` itself as a Float32 weight (nothing copied).
    public init(_ tensor: Tensor) {
        shape = tensor.shape
        type = .f32
        storage = .tensor(tensor)
    }

    /// `tensor`'s values stored as `type`: rounded to nearest even for F16/BF16, quantized per block for Q8_0.
    public init(_ tensor: Tensor, as type: WeightType) {
        if type == .f32 { self.init(tensor); return }
        let buffer = OwnedWeightBuffer(type: type, count: tensor.count)
        tensor.data.withUnsafeBufferPointer { WeightEncoding.encode($0, type: type, into: buffer) }
        self.init(shape: tensor.shape, type: type, values: UnsafeRawPointer(buffer.values),
                  scales: buffer.scales.map { UnsafePointer($0) }, owner: buffer)
    }

    /// Whether this weight views memory that someone else owns (a mapped checkpoint): nothing was copied.
    public var isView: Bool {
        if case .memory(_, _, let owner) = storage { return !(owner is OwnedWeightBuffer) }
        return false
    }

    public var count: Int { shape.reduce(1, *) }
    public var columns: Int { shape.last ?? 1 }
    public var rows: Int { shape.count <= 1 ? 1 : count / columns }

    /// Bytes this weight occupies as stored (values and scales).
    public var storedBytes: Int {
        count * type.valueSize + (type == .q8_0 ? count / WeightType.blockSize * 2 : 0)
    }

    /// The same numbers stored as `type` (`self` when it already is).
    public func converted(to type: WeightType) -> Weight {
        type == self.type ? self : Weight(tensor(), as: type)
    }

    /// Calls `body` with the stored values' memory (valid only inside `body`).
    @inline(__always)
    public func withValues<R>(_ body: (StoredValues) throws -> R) rethrows -> R {
        switch storage {
        case .memory(let values, let scales, let owner):
            return try withExtendedLifetime(owner) {
                try body(StoredValues(type: type, rows: rows, columns: columns, values: values, scales: scales))
            }
        case .tensor(let t):
            return try t.data.withUnsafeBytes { raw in
                try body(StoredValues(type: .f32, rows: rows, columns: columns, values: raw.baseAddress!, scales: nil))
            }
        }
    }

    /// Calls `body` with the stored bytes: the values, and the Q8_0 scales (nil for other types).
    public func withStoredBytes<R>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        try withValues { v in
            try body(UnsafeRawBufferPointer(start: v.values, count: count * type.valueSize),
                     v.scales.map { UnsafeRawBufferPointer(start: $0, count: 2 * count / WeightType.blockSize) })
        }
    }

    /// Rows `rows` as Float32, written contiguously to `out`.
    public func decodeRows(_ rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        withValues { WeightEncoding.decode($0, rows: rows, into: out) }
    }

    /// All values as a Float32 tensor (the tensor itself when it is one).
    public func tensor() -> Tensor {
        if case .tensor(let t) = storage { return t }
        var data = [Float](repeating: 0, count: count)
        data.withUnsafeMutableBufferPointer { decodeRows(0..<rows, into: $0.baseAddress!) }
        return Tensor(shape: shape, data: data)
    }
}

/// A weight's memory, borrowed for the duration of a `Weight.withValues` call.
public struct StoredValues: @unchecked Sendable {
    public let type: WeightType
    public let rows: Int
    public let columns: Int
    /// Row-major values, `type.valueSize` bytes each.
    let values: UnsafeRawPointer
    /// Q8_0 only: Float16 scales [rows, columns / 32].
    let scales: UnsafePointer<Float16>?

    var float32: UnsafePointer<Float>? { type == .f32 ? values.assumingMemoryBound(to: Float.self) : nil }

    /// Element `index` (row-major) as Float32.
    @inline(__always)
    func element(_ index: Int) -> Float {
        switch type {
        case .f32: values.loadUnaligned(fromByteOffset: 4 * index, as: Float.self)
        case .f16: Float(values.loadUnaligned(fromByteOffset: 2 * index, as: Float16.self))
        case .bf16: Float(bitPattern: UInt32(values.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)) << 16)
        case .q8_0: Float(scales![index / WeightType.blockSize]) * Float(values.load(fromByteOffset: index, as: Int8.self))
        }
    }
}

/// Memory a `Weight` owns: 64-byte aligned values (and scales for Q8_0), freed with the last weight using it.
final class OwnedWeightBuffer {
    let values: UnsafeMutableRawPointer
    let scales: UnsafeMutablePointer<Float16>?

    init(type: WeightType, count: Int) {
        values = UnsafeMutableRawPointer.allocate(byteCount: max(count * type.valueSize, 1), alignment: 64)
        scales = type == .q8_0 ? UnsafeMutablePointer<Float16>.allocate(capacity: max(count / WeightType.blockSize, 1)) : nil
    }

    deinit {
        values.deallocate()
        scales?.deallocate()
    }
}
