import Foundation
import OutputFiles

/// Reading and appending JSON Lines files; a bad line is an error naming the file and the line number.
public enum JSONLines {
    public struct BadLine: Error, CustomStringConvertible {
        public let path: String, line: Int, reason: String
        public init(path: String, line: Int, reason: String) { self.path = path; self.line = line; self.reason = reason }
        public var description: String { "\(path):\(line): \(reason)" }
    }

    /// Every non-blank line decoded as `T`, with its 1-based line number.
    public static func decode<T: Decodable>(_ type: T.Type, from url: URL) throws -> [(line: Int, value: T)] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw BadLine(path: url.path, line: 0, reason: "cannot read the file")
        }
        return try decode(type, data: data, path: url.path)
    }

    public static func decode<T: Decodable>(_ type: T.Type, data: Data, path: String) throws -> [(line: Int, value: T)] {
        let decoder = JSONDecoder()
        var out: [(line: Int, value: T)] = []
        var lineNumber = 0
        for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw
            if line.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
            do {
                out.append((lineNumber, try decoder.decode(T.self, from: Data(line))))
            } catch let error as DecodingError {
                throw BadLine(path: path, line: lineNumber, reason: describe(error))
            } catch {
                throw BadLine(path: path, line: lineNumber, reason: "\(error)")
            }
        }
        return out
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ c: [CodingKey]) -> String { c.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") }
        switch error {
        case let .keyNotFound(key, context): return "missing key \"\(path(context.codingPath + [key]))\""
        case let .typeMismatch(type, context): return "\"\(path(context.codingPath))\" should be \(type)"
        case let .valueNotFound(type, context): return "\"\(path(context.codingPath))\" is null, expected \(type)"
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\"\(path(context.codingPath))\": \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// Appends one object as a line in one write, so a stopped run loses at most the line being written.
    public static func append<T: Encodable>(_ value: T, to url: URL) throws {
        try OutputFile.append(line(value), to: url.path)
    }

    /// Writes a whole file of lines (through `OutputFile`: atomic, or streamed to a device).
    public static func write<T: Encodable>(_ values: [T], to url: URL) throws {
        var data = Data()
        for value in values { data.append(try line(value)) }
        try OutputFile.write(data, to: url.path)
    }

    /// One object as a JSON line (sorted keys, slashes unescaped), with its newline.
    static func line<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(UInt8(ascii: "\n"))
        return data
    }
}

/// JSON text in Python's `json.dumps` style (ensure_ascii=False): strings escaped minimally, floats as repr.
public enum JSONText {
    public static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    /// Python's float repr: shortest round-trip digits, "NaN"/"Infinity" as json.dumps writes them.
    public static func number(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x > 0 ? "Infinity" : "-Infinity" }
        return "\(x)"
    }
}
