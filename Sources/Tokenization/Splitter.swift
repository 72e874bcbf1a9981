/// The pattern of a Split pre-tokenizer: GPT-2's regex (hand-written scanner), a literal string,
/// or any other regex (Swift Regex, matched scalar by scalar like the library's Oniguruma).
enum Splitter: @unchecked Sendable {
    case gpt2
    case literal([UInt8])
    /// Swift's `Regex<AnyRegexOutput>` is not Sendable; it is immutable and only ever read here.
    case regex(Regex<AnyRegexOutput>, source: String)

    init(_ pattern: PatternJSON) throws {
        switch pattern {
        case .string(let text):
            self = .literal(Array(text.utf8))
        case .regex(let source) where source == GPT2Splitter.pattern:
            self = .gpt2
        case .regex(let source):
            do {
                self = .regex(try Regex(source).matchingSemantics(.unicodeScalar), source: source)
            } catch {
                throw TokenizerFileProblem.unsupported(component: "pre_tokenizer",
                                                       detail: "Split regex \(source) (\(error))")
            }
        }
    }

    /// The text tiled into matches and the gaps between them, as byte ranges.
    func matches(in piece: UnsafeBufferPointer<UInt8>) -> [(range: Range<Int>, isMatch: Bool)] {
        var found: [Range<Int>] = []
        switch self {
        case .gpt2:
            GPT2Splitter.split(piece) { found.append($0) }
        case .literal(let needle):
            guard !needle.isEmpty else { break }
            var index = 0
            while index + needle.count <= piece.count {
                if piece[index] == needle[0] && (0..<needle.count).allSatisfy({ piece[index + $0] == needle[$0] }) {
                    found.append(index..<index + needle.count)
                    index += needle.count
                } else {
                    index += 1
                }
            }
        case .regex(let regex, _):
            let text = String(decoding: piece, as: UTF8.self)
            let utf8 = text.utf8
            // Empty matches are kept: like the library, they cut the gaps around them.
            for match in text.matches(of: regex) {
                found.append(utf8.distance(from: utf8.startIndex, to: match.range.lowerBound)
                             ..< utf8.distance(from: utf8.startIndex, to: match.range.upperBound))
            }
        }
        var tiling: [(range: Range<Int>, isMatch: Bool)] = []
        var previous = 0
        for range in found {
            if range.lowerBound > previous { tiling.append((previous..<range.lowerBound, false)) }
            tiling.append((range, true))
            previous = range.upperBound
        }
        if previous < piece.count { tiling.append((previous..<piece.count, false)) }
        return tiling
    }
}
