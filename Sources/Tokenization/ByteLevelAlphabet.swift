/// GPT-2's reversible map between the 256 byte values and 256 printable Unicode scalars, so that
/// every byte string can be written as a visible vocabulary entry (a space becomes "Ġ", U+0120).
/// Printable Latin-1 bytes map to themselves; the other 68 bytes take U+0100, U+0101, … in order.
enum ByteLevelAlphabet {
    /// scalarForByte[b] is the vocabulary character that stands for byte b.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(UInt8(byte)) {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The inverse map, keyed by scalar value (all values are below 0x144).
    static let byteForScalar: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (byte, scalar) in scalarForByte.enumerated() { map[scalar.value] = UInt8(byte) }
        return map
    }()

    private static func isPrintable(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// The vocabulary spelling of raw bytes: each byte becomes its one character.
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(scalarForByte[Int(byte)]) }
        return String(text)
    }

    /// The raw bytes behind a vocabulary spelling, or nil if some character is not in the alphabet
    /// (added tokens such as "<|endoftext|>" are all in it; a token holding a plain space is not).
    static func decode(_ token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byteForScalar[scalar.value] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
