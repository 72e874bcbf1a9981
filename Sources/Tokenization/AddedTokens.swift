/// The added tokens of a tokenizer.json (special tokens such as <|endoftext|>, and ordinary ones
/// such as GPT-NeoX's runs of spaces). They are cut out of the text before the model sees it:
/// first the non-normalized ones in the raw text, then the normalized ones in the normalized text.
/// Matching is leftmost-longest over bytes, like the library's Aho-Corasick automaton.
struct AddedTokens: Sendable {
    struct Token: Sendable {
        var id: Int
        var content: String
        var singleWord: Bool
        var lstrip: Bool
        var rstrip: Bool
        var special: Bool
    }

    /// A piece of text, or an added token that was found.
    enum Segment: Equatable {
        case text(Range<Int>)
        case token(Int)
    }

    let tokens: [Token]
    let raw: Matcher
    let normalized: Matcher

    init(_ json: [AddedTokenJSON], normalizer: Normalizer?) {
        tokens = json.map {
            Token(id: $0.id, content: $0.content, singleWord: $0.singleWord, lstrip: $0.lstrip,
                  rstrip: $0.rstrip, special: $0.special)
        }
        var rawPatterns: [([UInt8], Int)] = []
        var normalizedPatterns: [([UInt8], Int)] = []
        for (index, token) in json.enumerated() where !token.content.isEmpty {
            if token.normalized {
                // A token the normalizer turns into nothing (" " under Strip) is never matched, as in the library.
                let pattern = normalizer?.normalize(token.content) ?? token.content
                if !pattern.isEmpty { normalizedPatterns.append((Array(pattern.utf8), index)) }
            } else {
                rawPatterns.append((Array(token.content.utf8), index))
            }
        }
        raw = Matcher(rawPatterns)
        normalized = Matcher(normalizedPatterns)
    }

    /// The library's `find_matches`: splits `text` around the tokens `matcher` finds, honouring
    /// single_word (no word character on either side) and lstrip / rstrip (the token swallows
    /// the whitespace next to it).
    func split(_ text: UnsafeBufferPointer<UInt8>, with matcher: Matcher) -> [Segment] {
        guard !matcher.isEmpty else { return [.text(0..<text.count)] }
        var segments: [Segment] = []
        var textStart = 0
        for found in matcher.matches(in: text) {
            let token = tokens[found.token]
            var start = found.range.lowerBound
            var stop = found.range.upperBound
            if token.singleWord {
                let wordBefore = start > 0 && ScalarClass.isWordCharacter(
                    UTF8Scalars.decode(text, at: UTF8Scalars.startOfScalar(before: start, in: text)).value)
                let wordAfter = stop < text.count && ScalarClass.isWordCharacter(UTF8Scalars.decode(text, at: stop).value)
                if wordBefore || wordAfter { continue }
            }
            if token.lstrip {
                var newStart = start
                while newStart > 0 {
                    let previous = UTF8Scalars.startOfScalar(before: newStart, in: text)
                    guard ScalarClass.isWhitespace(UTF8Scalars.decode(text, at: previous).value) else { break }
                    newStart = previous
                }
                // Whitespace an earlier match already swallowed stays with it.
                start = max(newStart, textStart)
            }
            if token.rstrip {
                while stop < text.count {
                    let scalar = UTF8Scalars.decode(text, at: stop)
                    guard ScalarClass.isWhitespace(scalar.value) else { break }
                    stop += scalar.length
                }
            }
            if textStart < start { segments.append(.text(textStart..<start)) }
            segments.append(.token(token.id))
            textStart = stop
        }
        if textStart < text.count { segments.append(.text(textStart..<text.count)) }
        return segments
    }

    /// A byte trie of the patterns, searched leftmost-longest.
    struct Matcher: Sendable {
        private var children: [[(byte: UInt8, node: Int32)]] = [[]]
        private var terminal: [Int32] = [-1]
        private var canStart = [Bool](repeating: false, count: 256)
        let isEmpty: Bool

        init(_ patterns: [([UInt8], Int)]) {
            isEmpty = patterns.isEmpty
            for (bytes, token) in patterns {
                var node = 0
                for byte in bytes {
                    if let child = children[node].first(where: { $0.byte == byte }) {
                        node = Int(child.node)
                    } else {
                        children.append([])
                        terminal.append(-1)
                        children[node].append((byte, Int32(children.count - 1)))
                        node = children.count - 1
                    }
                }
                // The first of two identical contents wins, as the library's automaton does.
                if terminal[node] < 0 { terminal[node] = Int32(token) }
                canStart[Int(bytes[0])] = true
            }
        }

        /// Non-overlapping matches, each the longest pattern at the leftmost position not yet covered.
        func matches(in text: UnsafeBufferPointer<UInt8>) -> [(range: Range<Int>, token: Int)] {
            var found: [(range: Range<Int>, token: Int)] = []
            var position = 0
            while position < text.count {
                guard canStart[Int(text[position])] else { position += 1; continue }
                var node = 0
                var best: (end: Int, token: Int)? = nil
                var index = position
                while index < text.count, let child = children[node].first(where: { $0.byte == text[index] }) {
                    node = Int(child.node)
                    index += 1
                    if terminal[node] >= 0 { best = (index, Int(terminal[node])) }
                }
                if let best {
                    found.append((position..<best.end, best.token))
                    position = best.end
                } else {
                    position += 1
                }
            }
            return found
        }
    }
}
