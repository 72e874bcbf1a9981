import Foundation
import OutputFiles
import TensorCore

/// Writes safetensors files through `OutputFile` (atomic for regular files, streamed to devices; a failure
/// leaves no partial output).
public enum SafetensorsWriter {
    public enum Value {
        case float32(Tensor)
        case int64([Int], shape: [Int])
    }

    public static func write(_ tensors: [(String, Value)], metadata: [String: String] = [:], to url: URL) throws {
        try OutputFile.write(encode(tensors, metadata: metadata), to: url.path)
    }

    /// The bytes of a safetensors file: the 8-byte header length, the JSON header, the data.
    public static func encode(_ tensors: [(String, Value)], metadata: [String: String] = [:]) throws -> Data {
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
        return file
    }
}
