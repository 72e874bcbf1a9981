import Foundation
import OutputFiles
import TensorCore

/// Writes safetensors files through `OutputFile` (atomic for regular files, streamed to devices; a failure
/// leaves no partial output).
public enum SafetensorsWriter {
    public enum Value {
        case float32(Tensor)
        case int64([Int], shape: [Int])
        /// As stored: F32, F16, BF16, or Q8_0 as two tensors, `name.q8_0` (I8) and `name.q8_0_scales` (F16).
        case weight(Weight)
    }

    public static func write(_ tensors: [(String, Value)], metadata: [String: String] = [:], to url: URL) throws {
        try OutputFile.write(encode(tensors, metadata: metadata), to: url.path)
    }

    /// The bytes of a safetensors file: the 8-byte header length, the JSON header, the data. Larger elements
    /// first: every tensor then starts at a multiple of its element size (the data section starts at a
    /// multiple of 8), so a reader can use it in place.
    public static func encode(_ tensors: [(String, Value)], metadata: [String: String] = [:]) throws -> Data {
        let pieces = tensors.flatMap(pieces).enumerated().sorted { ($0.element.elementSize, $1.offset) > ($1.element.elementSize, $0.offset) }
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body = Data()
        for (_, piece) in pieces {
            let begin = body.count
            body.append(piece.bytes)
            header[piece.name] = ["dtype": piece.dtype, "shape": piece.shape, "data_offsets": [begin, body.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces, as the format allows
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(body)
        return file
    }

    private struct Piece {
        let name, dtype: String
        let shape: [Int]
        let elementSize: Int
        let bytes: Data
    }

    /// The stored tensors of one value (two for a Q8_0 weight).
    private static func pieces(_ entry: (String, Value)) -> [Piece] {
        let (name, value) = entry
        switch value {
        case .float32(let t):
            return [Piece(name: name, dtype: "F32", shape: t.shape, elementSize: 4, bytes: t.data.withUnsafeBytes { Data($0) })]
        case .int64(let values, let shape):
            return [Piece(name: name, dtype: "I64", shape: shape, elementSize: 8,
                          bytes: values.map { Int64($0).littleEndian }.withUnsafeBytes { Data($0) })]
        case .weight(let w):
            return w.withStoredBytes { values, scales in
                let dtype = ["f32": "F32", "f16": "F16", "bf16": "BF16", "q8_0": "I8"][w.type.rawValue]!
                var result = [Piece(name: w.type == .q8_0 ? name + Q8Names.valuesSuffix : name, dtype: dtype, shape: w.shape,
                                    elementSize: w.type.valueSize, bytes: Data(values))]
                if let scales {
                    result.append(Piece(name: name + Q8Names.scalesSuffix, dtype: "F16",
                                        shape: Array(w.shape.dropLast()) + [w.columns / WeightType.blockSize], elementSize: 2, bytes: Data(scales)))
                }
                return result
            }
        }
    }
}
