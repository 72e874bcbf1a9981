import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// A safetensors file, memory-mapped. The header is checked completely on open (length, JSON, dtypes,
/// sizes, offsets in range and not overlapping), so a truncated or corrupt file fails here with its
/// path, never later with a crash. `weight(_:)` views a tensor in place, as stored (zero-copy); `tensor(_:)`
/// converts it to a Float32 `Tensor`.
public final class SafetensorsFile: @unchecked Sendable {
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", i8 = "I8"
        var size: Int { switch self { case .f32, .i32: 4; case .f16, .bf16: 2; case .i64: 8; case .i8: 1 } }
        /// The weight type of a float tensor (nil for integers).
        var weightType: WeightType? { switch self { case .f32: .f32; case .f16: .f16; case .bf16: .bf16; default: nil } }
    }

    public struct Entry: Sendable {
        public let dtype: DType
        public let shape: [Int]
        let begin: Int
        let end: Int
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let base: UnsafeRawPointer
    private let mappedLength: Int
    private let dataStart: Int

    public init(path: String) throws(LoadingError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .fileNotFound(path: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .fileNotFound(path: path) }
        let size = Int(info.st_size)
        guard size >= 8 else { throw .corruptSafetensors(path: path, reason: "file is \(size) bytes, shorter than the 8-byte header length") }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw .corruptSafetensors(path: path, reason: "cannot memory-map the file")
        }
        let raw = UnsafeRawPointer(mapped)
        base = raw
        mappedLength = size
        do {
            // Compared as UInt64: a corrupt length past Int.max must be refused, not trap in Int(_:).
            let storedLength = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
            guard storedLength <= UInt64(size - 8) else {
                throw LoadingError.corruptSafetensors(path: path, reason: "header length \(storedLength) runs past the end of the \(size)-byte file (truncated?)")
            }
            let headerLength = Int(storedLength)
            dataStart = 8 + headerLength
            let header = Data(bytes: raw + 8, count: headerLength)
            (entries, metadata) = try Self.parseHeader(header, path: path, dataLength: size - dataStart)
        } catch let error as LoadingError {
            munmap(mapped, size)
            throw error
        } catch {
            munmap(mapped, size)
            throw .corruptSafetensors(path: path, reason: "\(error)")
        }
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), mappedLength) }

    static func parseHeader(_ header: Data, path: String, dataLength: Int) throws(LoadingError)
        -> ([String: Entry], [String: String]) {
        guard let object = try? JSONSerialization.jsonObject(with: header), let json = object as? [String: Any] else {
            throw .corruptSafetensors(path: path, reason: "the header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in json {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let fields = value as? [String: Any], let dtypeName = fields["dtype"] as? String,
                  let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int], offsets.count == 2
            else { throw .corruptSafetensors(path: path, reason: "tensor \"\(name)\" lacks dtype, shape or data_offsets") }
            guard let dtype = DType(rawValue: dtypeName) else { throw .unknownDType(path: path, tensor: name, dtype: dtypeName) }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw .corruptSafetensors(path: path, reason: "tensor \"\(name)\" has a negative dimension") }
            let (begin, end) = (offsets[0], offsets[1])
            var bytes = dtype.size
            for dimension in shape {
                let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw .corruptSafetensors(path: path, reason: "tensor \"\(name)\" has shape \(shape), whose size overflows") }
                bytes = product
            }
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw .corruptSafetensors(path: path, reason: "tensor \"\(name)\" has offsets [\(begin), \(end)) outside the \(dataLength)-byte data section (truncated?)")
            }
            guard end - begin == bytes else {
                throw .corruptSafetensors(path: path, reason: "tensor \"\(name)\" spans \(end - begin) bytes, but \(dtypeName) \(shape) needs \(bytes)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, begin: begin, end: end)
        }
        let ordered = entries.sorted { ($0.value.begin, $0.value.end) < ($1.value.begin, $1.value.end) }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where next.value.begin < previous.value.end {
            throw .corruptSafetensors(path: path, reason: "tensors \"\(previous.key)\" and \"\(next.key)\" overlap")
        }
        return (entries, metadata)
    }

    public var names: [String] { entries.keys.sorted() }

    /// The tensor `name` as stored, viewed in the mapped file (this file stays mapped while the weight lives).
    /// An int8 `name` is the values of a Q8_0 weight whose Float16 scales are `scales`.
    public func weight(_ name: String, scales: String? = nil) throws(LoadingError) -> Weight {
        let entry = try floatEntry(name, allowing: scales == nil ? nil : .i8)
        let values = base + dataStart + entry.begin
        guard let scales else {
            let type = entry.dtype.weightType!
            guard Int(bitPattern: values) % entry.dtype.size == 0 else {
                // Misaligned in the file (a writer that does not pad): decoded into memory of its own.
                return Weight(try tensor(name), as: type)
            }
            return Weight(shape: entry.shape, type: type, values: values, owner: self)
        }
        guard let scaleEntry = entries[scales], scaleEntry.dtype == .f16 else {
            throw .corruptSafetensors(path: path, reason: "the Q8_0 weight \"\(name)\" needs F16 scales \"\(scales)\"")
        }
        let columns = entry.shape.last ?? 1
        let scaleShape = Array(entry.shape.dropLast()) + [columns / WeightType.blockSize]
        guard columns % WeightType.blockSize == 0, scaleEntry.shape == scaleShape else {
            throw .wrongShape(key: scales, path: path, expected: scaleShape, found: scaleEntry.shape)
        }
        let scalePointer = base + dataStart + scaleEntry.begin
        guard Int(bitPattern: scalePointer) % 2 == 0 else {
            throw .corruptSafetensors(path: path, reason: "the scales \"\(scales)\" are not 2-byte aligned")
        }
        return Weight(shape: entry.shape, type: .q8_0, values: values,
                      scales: scalePointer.assumingMemoryBound(to: Float16.self), owner: self)
    }

    /// The entry of a float tensor (or of `allowing`), else an error naming it.
    private func floatEntry(_ name: String, allowing other: DType? = nil) throws(LoadingError) -> Entry {
        guard let entry = entries[name] else { throw .missingTensor(key: name, expectedShape: [], directory: path) }
        guard entry.dtype.weightType != nil || entry.dtype == other else {
            throw .unknownDType(path: path, tensor: name, dtype: entry.dtype.rawValue + " (an integer tensor where weights were expected)")
        }
        return entry
    }

    /// The tensor `name` as Float32 (converted from F16/BF16; integer tensors are refused).
    public func tensor(_ name: String) throws(LoadingError) -> Tensor {
        let entry = try floatEntry(name)
        let count = entry.shape.reduce(1, *)
        let source = base + dataStart + entry.begin
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { out in
            for i in 0..<count {
                switch entry.dtype {
                case .f32: out[i] = source.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
                case .f16: out[i] = Float(Float16(bitPattern: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                default: out[i] = Float(bitPattern: UInt32(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                }
            }
        }
        return Tensor(shape: entry.shape, data: values)
    }

    /// An integer tensor (I64 or I32), e.g. token ids in a fixture.
    public func integers(_ name: String) throws(LoadingError) -> [Int] {
        guard let entry = entries[name] else { throw .missingTensor(key: name, expectedShape: [], directory: path) }
        let source = base + dataStart + entry.begin
        let count = entry.shape.reduce(1, *)
        switch entry.dtype {
        case .i64: return (0..<count).map { Int(source.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        case .i32: return (0..<count).map { Int(source.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        default: throw .unknownDType(path: path, tensor: name, dtype: entry.dtype.rawValue + " (a float tensor where integers were expected)")
        }
    }
}
