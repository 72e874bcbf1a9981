import Foundation

/// Decoding as the library does for non-byte-level files: the ids' token strings pass through a
/// chain of steps, each a function of the whole list (Replace, ByteFallback, Fuse, Strip, Metaspace),
/// and the results are concatenated. Characters are Unicode scalars, as Rust's `char` (a "▁" or
/// space followed by a combining mark still counts on its own). This is the decoder of SentencePiece-style files (Llama-2:
/// Replace("▁", " "), ByteFallback, Fuse, Strip(" ", 1, 0)).
struct TokenChainDecoder: Sendable {
    enum Step: Sendable {
        case replace(pattern: String, content: String)
        case byteFallback, fuse
        case strip(content: Unicode.Scalar, start: Int, stop: Int)
        case metaspace(replacement: Unicode.Scalar, stripsFirst: Bool)
    }

    let steps: [Step]

    /// nil when `json` is the ByteLevel decoder (or holds it): that one works on bytes, in `TokenDecoder`.
    init?(_ json: DecoderJSON) throws {
        var steps: [Step] = []
        func add(_ json: DecoderJSON) throws -> Bool {
            switch json {
            case .byteLevel: return false
            case .replace(let pattern, let content): steps.append(.replace(pattern: pattern, content: content))
            case .byteFallback: steps.append(.byteFallback)
            case .fuse: steps.append(.fuse)
            case let .strip(content, start, stop):
                guard content.unicodeScalars.count == 1, start >= 0, stop >= 0 else {
                    throw TokenizerFileProblem.unsupported(component: "decoder", detail: "Strip of \"\(content)\" (\(start), \(stop))")
                }
                steps.append(.strip(content: content.unicodeScalars.first!, start: start, stop: stop))
            case .metaspace(let m): steps.append(.metaspace(replacement: m.replacement.unicodeScalars.first!, stripsFirst: m.prependScheme != .never))
            case .sequence(let inner):
                for step in inner where try !add(step) {
                    throw TokenizerFileProblem.unsupported(component: "decoder", detail: "ByteLevel inside a Sequence")
                }
            }
            return true
        }
        guard try add(json) else { return nil }
        self.steps = steps
    }

    func decode(_ tokens: [String]) -> String {
        steps.reduce(tokens) { Self.apply($1, $0) }.joined()
    }

    static func apply(_ step: Step, _ tokens: [String]) -> [String] {
        switch step {
        case let .replace(pattern, content):
            return tokens.map { $0.replacingOccurrences(of: pattern, with: content, options: .literal) }
        case .fuse:
            return [tokens.joined()]
        case let .strip(content, start, stop):
            return tokens.map { token in
                let characters = Array(token.unicodeScalars)
                var lower = 0, upper = characters.count
                while lower < min(start, characters.count), characters[lower] == content { lower += 1 }
                while upper > lower, characters.count - upper < stop, characters[upper - 1] == content { upper -= 1 }
                var kept = String.UnicodeScalarView()
                kept.append(contentsOf: characters[lower..<upper])
                return String(kept)
            }
        case let .metaspace(replacement, stripsFirst):
            return tokens.enumerated().map { index, token in
                var kept = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar != replacement { kept.append(scalar) } else if !(index == 0 && stripsFirst) { kept.append(" ") }
                }
                return String(kept)
            }
        case .byteFallback:
            return byteFallback(tokens)
        }
    }

    /// Runs of "<0xXX>" tokens become the text their bytes spell, or one U+FFFD per byte if those
    /// bytes are not valid UTF-8 (as the library does).
    static func byteFallback(_ tokens: [String]) -> [String] {
        var out: [String] = [], bytes: [UInt8] = []
        func flush() {
            guard !bytes.isEmpty else { return }
            if let text = String(validating: bytes, as: UTF8.self) { out.append(text) } else {
                out += Array(repeating: "\u{FFFD}", count: bytes.count)
            }
            bytes.removeAll()
        }
        for token in tokens {
            if let byte = Self.fallbackByte(token) { bytes.append(byte); continue }
            flush()
            out.append(token)
        }
        flush()
        return out
    }

    /// The byte of a "<0xXX>" token.
    static func fallbackByte(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, token.hasPrefix("<0x"), token.hasSuffix(">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }
}
