/// SQuAD-style answer normalization as LongBench's `normalize_answer` (and L-Eval's, which skips the
/// lower-casing): lower → drop ASCII punctuation → replace the words a/an/the by a space → collapse whitespace.
public enum AnswerNormalization {
    /// `string.punctuation`: ASCII punctuation only.
    public static func isASCIIPunctuation(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        default: return false
        }
    }

    public static func normalize(_ text: String, lowercase: Bool = true) -> String {
        let lowered = lowercase ? PythonText.lower(text) : text
        var kept = String.UnicodeScalarView()
        for s in lowered.unicodeScalars where !isASCIIPunctuation(s) { kept.append(s) }
        return PythonText.split(removeArticles(String(kept))).joined(separator: " ")
    }

    /// `re.sub(r"\b(a|an|the)\b", " ", text)` with Python's Unicode word boundaries.
    public static func removeArticles(_ text: String) -> String {
        let s = Array(text.unicodeScalars)
        let articles: [[Unicode.Scalar]] = [["a"], ["a", "n"], ["t", "h", "e"]]
        var out = String.UnicodeScalarView()
        var i = 0
        while i < s.count {
            let atBoundary = i == 0 || !PythonText.isWordCharacter(s[i - 1])
            var matched = 0
            if atBoundary {
                for word in articles where i + word.count <= s.count && Array(s[i..<(i + word.count)]) == word {
                    let end = i + word.count
                    if end == s.count || !PythonText.isWordCharacter(s[end]) { matched = word.count; break }
                }
            }
            if matched > 0 { out.append(" "); i += matched } else { out.append(s[i]); i += 1 }
        }
        return String(out)
    }
}
