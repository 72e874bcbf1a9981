import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// A safetensors file, memory-mapped. The header is checked completely on open (length, JSON, dtypes,
/// sizes, offsets in range and not overlapping), so a truncated or corrupt file fails here with its
/// path, never later with a crash. F16 and BF16 are converted to Float32 when a tensor is read.
public final class SafetensorsFile: @unchecked Sendable {
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32"
        var size: Int { switch self { case .f32, .i32: 4; case .f16, .bf16: 2; case .i64: 8 } }
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

    /// The tensor `name` as Float32 (converted from F16/BF16; integer tensors are refused).
    public func tensor(_ name: String) throws(LoadingError) -> Tensor {
        guard let entry = entries[name] else { throw .missingTensor(key: name, expectedShape: [], directory: path) }
        let count = entry.shape.reduce(1, *)
        let source = base + dataStart + entry.begin
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { out in
            switch entry.dtype {
            case .f32:
                for i in 0..<count { out[i] = source.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
            case .f16:
                for i in 0..<count { out[i] = Float(Float16(bitPattern: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            case .bf16:
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
            case .i64, .i32: break
            }
        }
        if entry.dtype == .i64 || entry.dtype == .i32 {
            throw .unknownDType(path: path, tensor: name, dtype: entry.dtype.rawValue + " (an integer tensor where weights were expected)")
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
