/// A hand-written matcher for GPT-2's pre-tokenization regex, the one GPT-NeoX uses:
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// It reports the same pieces as the backtracking regex, trying the alternatives in order at each
/// position, but in one pass over the bytes with a class table instead of a regex engine.
/// The alternatives cover every character, so the pieces tile the input.
enum GPT2Splitter {
    static let pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    static func split(_ bytes: UnsafeBufferPointer<UInt8>, _ emit: (Range<Int>) -> Void) {
        let end = bytes.count
        var index = 0
        while index < end {
            if let length = contractionLength(bytes, at: index) {
                emit(index..<index + length)
                index += length
                continue
            }
            let first = UTF8Scalars.decode(bytes, at: index)
            var runClass = ScalarClass.of(first.value)
            var runStart = index
            // " ?" before a letter, number or other run: a single ASCII space joins the next word.
            if first.value == 0x20 && index + 1 < end {
                let next = ScalarClass.of(UTF8Scalars.decode(bytes, at: index + 1).value)
                if next != .whitespace {
                    runClass = next
                    runStart = index + 1
                }
            }
            if runClass != .whitespace {
                let runEnd = endOfRun(bytes, from: runStart, of: runClass)
                emit(index..<runEnd)
                index = runEnd
                continue
            }
            // `\s+(?!\S)`: a whitespace run followed by non-space gives up its last scalar (which then
            // prefixes the next word, or stands alone if it is not a plain space); `\s+` if only one.
            var runEnd = index
            var lastScalarStart = index
            var count = 0
            while runEnd < end {
                let scalar = UTF8Scalars.decode(bytes, at: runEnd)
                guard ScalarClass.of(scalar.value) == .whitespace else { break }
                lastScalarStart = runEnd
                runEnd += scalar.length
                count += 1
            }
            let pieceEnd = (runEnd == end || count == 1) ? runEnd : lastScalarStart
            emit(index..<pieceEnd)
            index = pieceEnd
        }
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d` (lower case only, ASCII apostrophe only).
    @inline(__always)
    private static func contractionLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        guard bytes[index] == UInt8(ascii: "'"), index + 1 < bytes.count else { return nil }
        switch bytes[index + 1] {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            return 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"):
            return index + 2 < bytes.count && bytes[index + 2] == UInt8(ascii: "e") ? 3 : nil
        case UInt8(ascii: "l"):
            return index + 2 < bytes.count && bytes[index + 2] == UInt8(ascii: "l") ? 3 : nil
        default:
            return nil
        }
    }

    @inline(__always)
    private static func endOfRun(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, of runClass: ScalarClass) -> Int {
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                // ASCII fast path: no decode needed.
                guard ScalarClass.of(UInt32(byte)) == runClass else { break }
                index += 1
            } else {
                let scalar = UTF8Scalars.decode(bytes, at: index)
                guard ScalarClass.of(scalar.value) == runClass else { break }
                index += scalar.length
            }
        }
        return index
    }
}
