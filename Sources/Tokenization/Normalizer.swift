import Foundation

/// The text normalizers a tokenizer.json can name, applied in order before pre-tokenization.
/// Each step works on a whole piece of text (the gaps between added tokens), like the library.
indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd, lowercase, stripAccents
    case strip(left: Bool, right: Bool)
    case replace(pattern: String, content: String)
    case prepend(String)
    case sequence([Normalizer])

    init(_ json: NormalizerJSON) {
        switch json {
        case .nfc: self = .nfc
        case .nfd: self = .nfd
        case .nfkc: self = .nfkc
        case .nfkd: self = .nfkd
        case .lowercase: self = .lowercase
        case .stripAccents: self = .stripAccents
        case .strip(let left, let right): self = .strip(left: left, right: right)
        case .replace(let pattern, let content): self = .replace(pattern: pattern, content: content)
        case .prepend(let text): self = .prepend(text)
        case .sequence(let steps): self = .sequence(steps.map(Normalizer.init))
        }
    }

    func normalize(_ text: String) -> String {
        switch self {
        case .nfc: return Self.nfc(text)
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return Self.isASCII(text) ? text : text.precomposedStringWithCompatibilityMapping
        case .nfkd: return Self.isASCII(text) ? text : text.decomposedStringWithCompatibilityMapping
        case .lowercase: return Self.lowercase(text)
        case .stripAccents:
            // Removes the nonspacing marks, as the library does (usually after NFD).
            var scalars = String.UnicodeScalarView()
            scalars.append(contentsOf: text.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark })
            return String(scalars)
        case .strip(let left, let right):
            return Self.strip(text, left: left, right: right)
        case .replace(let pattern, let content):
            return pattern.isEmpty ? text : text.replacingOccurrences(of: pattern, with: content, options: .literal)
        case .prepend(let prefix):
            return text.isEmpty ? text : prefix + text
        case .sequence(let steps):
            return steps.reduce(text) { $1.normalize($0) }
        }
    }

    /// NFC through the standard library: Foundation's `precomposedStringWithCanonicalMapping` runs at
    /// about 1-2 MB/s on Linux, the stdlib's quick check at ~400 MB/s and its normalizer at ~50 MB/s.
    static func nfc(_ text: String) -> String {
        if isKnownNFC(text) { return text }
        return String(decoding: text._nfcCodeUnits, as: UTF8.self)
    }

    private static func isKnownNFC(_ text: String) -> Bool {
        var span = text.utf8Span
        return span.checkForNFC(quickCheck: true)
    }

    private static func isASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 < 0x80 }
    }

    /// Lowercases scalar by scalar with the full Unicode mapping (İ → i̇), without the context rule for
    /// final sigma: the library maps each char on its own (Rust's `char::to_lowercase`).
    static func lowercase(_ text: String) -> String {
        if isASCII(text) { return text.lowercased() }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.properties.changesWhenLowercased {
                scalars.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                scalars.append(scalar)
            }
        }
        return String(scalars)
    }

    private static func strip(_ text: String, left: Bool, right: Bool) -> String {
        var scalars = Substring(text).unicodeScalars
        if left { while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() } }
        if right { while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() } }
        return String(scalars)
    }
}
