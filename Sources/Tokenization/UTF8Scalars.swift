/// Small helpers for walking valid UTF-8 (every buffer here comes from a Swift String, so the bytes
/// are valid and no bounds beyond the sequence length are read).
enum UTF8Scalars {
    /// The scalar value that starts at `index` and its length in bytes.
    @inline(__always)
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (value: UInt32, length: Int) {
        let b0 = UInt32(bytes[index])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F), 3)
        }
        return ((b0 & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12
                | UInt32(bytes[index + 2] & 0x3F) << 6 | UInt32(bytes[index + 3] & 0x3F), 4)
    }

    /// The start of the scalar that ends just before `index` (index > 0).
    @inline(__always)
    static func startOfScalar(before index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var start = index - 1
        while start > 0 && bytes[start] & 0xC0 == 0x80 { start -= 1 }
        return start
    }

    /// How many bytes a sequence that starts with `lead` needs (1 for a stray continuation byte).
    static func sequenceLength(lead: UInt8) -> Int {
        switch lead {
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 1
        }
    }
}

/// The character classes of the GPT-2 split pattern: `\p{L}`, `\p{N}`, `\s` (Unicode White_Space,
/// as the library's Oniguruma regex uses) and everything else.
enum ScalarClass: UInt8 {
    case letter, number, whitespace, other

    /// Classes of the Basic Multilingual Plane, computed once (~6 ms); other planes are looked up.
    private static let basicPlane: [ScalarClass] = (0..<0x10000).map { value in
        guard let scalar = Unicode.Scalar(UInt32(value)) else { return .other }
        return classify(scalar)
    }

    static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    private static let asciiClasses: [ScalarClass] = (0..<128).map { classify(Unicode.Scalar(UInt8($0))) }

    @inline(__always)
    static func of(_ value: UInt32) -> ScalarClass {
        if value < 0x80 { return asciiClasses[Int(value)] }
        if value < 0x10000 { return basicPlane[Int(value)] }
        return Unicode.Scalar(value).map(classify) ?? .other
    }

    /// Rust regex's `\w` (used for single_word added tokens): alphabetic, marks, decimal digits,
    /// connector punctuation and join controls.
    static func isWordCharacter(_ value: UInt32) -> Bool {
        guard let scalar = Unicode.Scalar(value) else { return false }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    static func isWhitespace(_ value: UInt32) -> Bool {
        Unicode.Scalar(value)?.properties.isWhitespace ?? false
    }
}
