import Foundation

/// Reading text that is going to be tokenized: bytes that are not UTF-8 are refused with an error
/// naming the file, never replaced or guessed at (a U+FFFD would silently change the ids).
public enum TextFile {
    public static func read(_ url: URL) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        return try decode(data, source: url.path)
    }

    public static func decode(_ data: Data, source: String) throws -> String {
        guard let text = String(validating: data, as: UTF8.self) else {
            let offset = firstInvalidOffset(data)
            throw TokenizerError.invalidUTF8(source: "\(source) (byte offset \(offset))")
        }
        return text
    }

    /// Where decoding first fails, to point the user at the bad byte.
    private static func firstInvalidOffset(_ data: Data) -> Int {
        var decoder = UTF8()
        var iterator = data.makeIterator()
        var offset = 0
        while true {
            var consumed = 0
            var counting = AnyIterator { () -> UInt8? in
                let byte = iterator.next()
                if byte != nil { consumed += 1 }
                return byte
            }
            switch decoder.decode(&counting) {
            case .scalarValue: offset += consumed
            case .emptyInput: return offset
            case .error: return offset
            }
        }
    }
}
