/// The remaining metrics of LongBench's metrics.py, one function each, same arguments.
public enum LongBenchScores {
    /// `count_score`: the share of the numbers in the prediction that equal the ground truth.
    public static func count(_ prediction: String, _ groundTruth: String) -> Double {
        let numbers = PythonText.digitRuns(prediction)
        if numbers.isEmpty { return 0 }
        let right = numbers.filter { PythonText.equal($0, groundTruth) }.count
        return Double(right) / Double(numbers.count)
    }

    public enum RetrievalError: Error, CustomStringConvertible {
        case noParagraphNumber(String)
        public var description: String {
            switch self { case .noParagraphNumber(let g): return "retrieval answer \(String(reflecting: g)) has no \"Paragraph N\" (or \"段落N\") in it" }
        }
    }

    /// `retrieval_score` (prefix "Paragraph ") and `retrieval_zh_score` (prefix "段落"): the share of the numbers
    /// in the prediction that equal the paragraph number of the ground truth.
    public static func retrieval(_ prediction: String, _ groundTruth: String, prefix: String = "Paragraph ") throws -> Double {
        guard let id = firstNumber(after: prefix, in: groundTruth) else { throw RetrievalError.noParagraphNumber(groundTruth) }
        return count(prediction, id)
    }

    /// The digits of the first `prefix\d+` in text, as `re.findall(prefix + r"(\d+)", text)[0]`.
    static func firstNumber(after prefix: String, in text: String) -> String? {
        let s = Array(text.unicodeScalars), p = Array(prefix.unicodeScalars)
        guard s.count > p.count else { return nil }
        for start in 0...(s.count - p.count - 1) where Array(s[start..<(start + p.count)]) == p {
            var end = start + p.count
            while end < s.count, PythonText.isDecimalDigit(s[end]) { end += 1 }
            if end > start + p.count {
                var view = String.UnicodeScalarView(); view.append(contentsOf: s[(start + p.count)..<end])
                return String(view)
            }
        }
        return nil
    }

    /// `code_sim_score`: fuzz.ratio / 100 of the first prediction line with no ` # or // in it.
    public static func codeSimilarity(_ prediction: String, _ groundTruth: String) -> Double {
        var trimmed = Substring(prediction)
        while trimmed.unicodeScalars.first == "\n" { trimmed = Substring(trimmed.unicodeScalars.dropFirst()) }
        var line = ""
        for candidate in PythonText.split(String(trimmed), separator: "\n") {
            if !PythonText.contains(candidate, "`") && !PythonText.contains(candidate, "#") && !PythonText.contains(candidate, "//") { line = candidate; break }
        }
        return Double(FuzzRatio.ratio(line, groundTruth)) / 100
    }

    /// `classification_score`, including its quirks: matched classes that are substrings of the ground truth are
    /// removed while the list is being iterated (so the element after each removal is skipped), and the
    /// `em_match_list != 0` test is always true, so a prediction naming no class scores 0.
    public static func classification(_ prediction: String, _ groundTruth: String, allClasses: [String]) -> Double {
        var matches = allClasses.filter { PythonText.contains(prediction, $0) }
        var index = 0
        while index < matches.count {
            let term = matches[index]
            if PythonText.contains(groundTruth, term) && !PythonText.equal(term, groundTruth),
               let first = matches.firstIndex(where: { PythonText.equal($0, term) }) {
                matches.remove(at: first)
            }
            index += 1
        }
        guard matches.contains(where: { PythonText.equal($0, groundTruth) }) else { return 0 }
        return 1.0 / Double(matches.count)
    }
}
