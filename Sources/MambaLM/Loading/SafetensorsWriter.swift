import Foundation
import TensorCore

/// Writes a safetensors file atomically: everything goes to a temporary file beside the target, which
/// is renamed into place only when complete, so a failure never leaves a partial output file.
public enum SafetensorsWriter {
    public enum Value {
        case float32(Tensor)
        case int64([Int], shape: [Int])
    }

    public static func write(_ tensors: [(String, Value)], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body = Data()
        for (name, value) in tensors {
            let begin = body.count
            switch value {
            case .float32(let t):
                t.data.withUnsafeBytes { body.append(contentsOf: $0) }
                header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [begin, body.count]]
            case .int64(let values, let shape):
                values.map { Int64($0).littleEndian }.withUnsafeBytes { body.append(contentsOf: $0) }
                header[name] = ["dtype": "I64", "shape": shape, "data_offsets": [begin, body.count]]
            }
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces, as the format allows
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(body)
        try AtomicFile.write(file, to: url)
    }
}

/// Temporary file + rename: readers see the old file or the whole new one, never a part.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try data.write(to: temporary)
            // POSIX rename replaces an existing file atomically (Foundation's replaceItemAt on Linux fails
            // on a second replacement of the same file and leaves it missing).
            guard rename(temporary.path, url.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path,
                    NSLocalizedDescriptionKey: "cannot rename \(temporary.path) to \(url.path): \(String(cString: strerror(errno)))"])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }
}
