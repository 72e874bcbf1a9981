/// The parts of Python's `str` that the reference scoring scripts rely on, reproduced on Unicode scalars
/// (a Python string is a sequence of code points; Swift's `String` compares grapheme clusters under
/// canonical equivalence, so every comparison here goes through scalars or UTF-8 bytes instead).
public enum PythonText {
    /// `str.isspace()`: the code points Python's `str.split()` splits on (Unicode 14, as CPython 3.11).
    public static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// `str.split()` with no separator: runs of whitespace separate, no empty pieces.
    public static func split(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if isSpace(s) {
                if !current.isEmpty { pieces.append(String(current)); current = String.UnicodeScalarView() }
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { pieces.append(String(current)) }
        return pieces
    }

    /// `str.split(sep)` with a one-scalar separator: keeps empty pieces.
    public static func split(_ text: String, separator: Unicode.Scalar) -> [String] {
        var pieces: [String] = []
        var current = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s == separator { pieces.append(String(current)); current = String.UnicodeScalarView() } else { current.append(s) }
        }
        pieces.append(String(current))
        return pieces
    }

    /// `str.lower()`: full lowercase mappings, with Greek capital sigma in the Final_Sigma context → ς.
    public static func lower(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, s) in scalars.enumerated() {
            if s.value == 0x03A3 {
                out.append(Unicode.Scalar(isFinalSigma(scalars, i) ? 0x03C2 : 0x03C3)!)
            } else {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(out)
    }

    /// CPython's `handle_capital_sigma`: cased letter before (skipping case-ignorables), none after.
    static func isFinalSigma(_ s: [Unicode.Scalar], _ i: Int) -> Bool {
        var j = i - 1
        while j >= 0, s[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, s[j].properties.isCased else { return false }
        j = i + 1
        while j < s.count, s[j].properties.isCaseIgnorable { j += 1 }
        return j == s.count || !s[j].properties.isCased
    }

    /// `str.isalnum()` on one code point: letters (L*) or anything with a numeric value; with `_` this is regex `\w`.
    public static func isAlphanumeric(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return s.properties.numericType != nil
        }
    }

    /// Regex `\w` of a `str` pattern.
    public static func isWordCharacter(_ s: Unicode.Scalar) -> Bool { s == "_" || isAlphanumeric(s) }

    /// Regex `\d` of a `str` pattern: any decimal digit (category Nd), not only 0-9.
    public static func isDecimalDigit(_ s: Unicode.Scalar) -> Bool { s.properties.generalCategory == .decimalNumber }

    /// `str.isdigit()` on one code point (Numeric_Type Decimal or Digit).
    public static func isDigit(_ s: Unicode.Scalar) -> Bool {
        s.properties.numericType == .decimal || s.properties.numericType == .digit
    }

    /// `re.findall(r"\d+", text)`.
    public static func digitRuns(_ text: String) -> [String] {
        var runs: [String] = []
        var current = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if isDecimalDigit(s) { current.append(s) } else if !current.isEmpty { runs.append(String(current)); current = String.UnicodeScalarView() }
        }
        if !current.isEmpty { runs.append(String(current)) }
        return runs
    }

    /// `a == b` on code points (no canonical equivalence).
    public static func equal(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    /// `needle in haystack` on code points. UTF-8 is self-synchronizing, so a byte match is a code-point match.
    public static func contains(_ haystack: String, _ needle: String) -> Bool {
        let h = Array(haystack.utf8), n = Array(needle.utf8)
        return firstIndex(of: n, in: h, from: 0) != nil
    }

    /// Byte offset of the first occurrence of `needle` in `haystack` at or after `start`.
    static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        if needle.isEmpty { return start <= haystack.count ? start : nil }
        guard haystack.count >= needle.count else { return nil }
        var i = start
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == needle[0] {
                var k = 1
                while k < needle.count, haystack[i + k] == needle[k] { k += 1 }
                if k == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// `text.replace(old, new)` on code points.
    public static func replace(_ text: String, _ old: String, _ new: String) -> String {
        let h = Array(text.utf8), n = Array(old.utf8), r = Array(new.utf8)
        if n.isEmpty { return text }
        var out: [UInt8] = []
        var i = 0
        while let j = firstIndex(of: n, in: h, from: i) {
            out.append(contentsOf: h[i..<j]); out.append(contentsOf: r); i = j + n.count
        }
        out.append(contentsOf: h[i...])
        return String(decoding: out, as: UTF8.self)
    }

    /// `text.split(sep)` for a multi-character separator (keeps empty pieces).
    public static func split(_ text: String, separator: String) -> [String] {
        let h = Array(text.utf8), n = Array(separator.utf8)
        var pieces: [String] = []
        var i = 0
        while let j = firstIndex(of: n, in: h, from: i) {
            pieces.append(String(decoding: h[i..<j], as: UTF8.self)); i = j + n.count
        }
        pieces.append(String(decoding: h[i...], as: UTF8.self))
        return pieces
    }

    /// `str.strip()` with no argument (Python whitespace).
    public static func strip(_ text: String) -> String {
        let s = Array(text.unicodeScalars)
        var lo = 0, hi = s.count
        while lo < hi, isSpace(s[lo]) { lo += 1 }
        while hi > lo, isSpace(s[hi - 1]) { hi -= 1 }
        var view = String.UnicodeScalarView(); view.append(contentsOf: s[lo..<hi])
        return String(view)
    }

    /// `float(text)` for the forms the scoring scripts meet: surrounding whitespace, sign, digits with
    /// single underscores between them, a fraction, an exponent, inf/infinity/nan. nil where Python raises.
    public static func parseFloat(_ text: String) -> Double? {
        // Python reads any Unicode decimal digit (category Nd) as its ASCII digit.
        var ascii = String.UnicodeScalarView()
        for s in strip(text).unicodeScalars {
            if isDecimalDigit(s), let v = s.properties.numericValue { ascii.append(Unicode.Scalar(UInt8(48 + Int(v)))) } else { ascii.append(s) }
        }
        let body = String(ascii)
        if body.isEmpty { return nil }
        let lowered = body.lowercased()
        let unsigned = lowered.hasPrefix("+") || lowered.hasPrefix("-") ? String(lowered.dropFirst()) : lowered
        let negative = lowered.hasPrefix("-")
        if unsigned == "inf" || unsigned == "infinity" { return negative ? -.infinity : .infinity }
        if unsigned == "nan" { return .nan }
        // Underscores only between digits; every character ASCII 0-9 . e E + - _.
        var cleaned = ""
        let chars = Array(unsigned)
        for (i, c) in chars.enumerated() {
            if c == "_" {
                guard i > 0, i + 1 < chars.count, chars[i - 1].isASCII, chars[i - 1].isNumber,
                      chars[i + 1].isASCII, chars[i + 1].isNumber else { return nil }
                continue
            }
            guard c.isASCII, c.isNumber || c == "." || c == "e" || c == "+" || c == "-" else { return nil }
            cleaned.append(c)
        }
        // Python needs a digit in the mantissa; Swift's Double() agrees on the rest of the grammar.
        let mantissa = cleaned.split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard mantissa.contains(where: { $0.isNumber }), !mantissa.contains("+"), !mantissa.contains("-") else { return nil }
        guard let value = Double(cleaned) else { return nil }
        return negative ? -value : value
    }
}
