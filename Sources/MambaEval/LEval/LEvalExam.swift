/// L-Eval's exam scoring (Evaluation/auto_eval.py + em.py) for the closed-ended tasks: the answer extraction
/// of each task family, then `exact_match_score`, averaged as 100 × mean.
public enum LEvalExam {
    /// `process_output_mc`: the option letters of a multiple-choice answer. `coursera` tasks may have several
    /// correct options, so their answers are collected instead of taking the first letter.
    public static func processOutputMultipleChoice(_ response: String, coursera: Bool) -> String {
        if PythonText.contains("ABCD", response) { return response }
        let letters: Set<Unicode.Scalar> = ["A", "B", "C", "D"]
        if !coursera, let first = response.unicodeScalars.first(where: { letters.contains($0) }) { return String(first) }
        var cleaned = String.UnicodeScalarView()
        var rest = Array(response.unicodeScalars)
        for s in response.unicodeScalars {
            guard letters.contains(s) else { break }
            cleaned.append(s)
            rest.removeFirst()   // as `response = response[1:]`
        }
        if cleaned.count > 1 { return sortedUnique(cleaned) }
        var restView = String.UnicodeScalarView(); restView.append(contentsOf: rest)
        let beforeQuestion = PythonText.split(String(restView), separator: "Question")[0]
        // re.findall(r"\s*[A-Z](?=[\s.)])"): capital letters followed by whitespace, '.' or ')'.
        let s = Array(beforeQuestion.unicodeScalars)
        var options: [String] = []
        var i = 0
        while i < s.count {
            var j = i
            while j < s.count, PythonText.isSpace(s[j]) { j += 1 }
            if j < s.count, ("A"..."Z").contains(s[j]), j + 1 < s.count,
               PythonText.isSpace(s[j + 1]) || s[j + 1] == "." || s[j + 1] == ")" {
                var view = String.UnicodeScalarView(); view.append(contentsOf: s[i...j])
                options.append(String(view)); i = j + 1
            } else {
                i += 1
            }
        }
        let joined = PythonText.strip(options.joined(separator: " "))
        var all = cleaned
        all.append(contentsOf: joined.unicodeScalars)
        let result = sortedUnique(String.UnicodeScalarView(all.filter { letters.contains($0) }))
        return result.isEmpty ? "A" : result
    }

    static func sortedUnique(_ s: String.UnicodeScalarView) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: Set(s).sorted { $0.value < $1.value })
        return String(view)
    }

    /// `process_gt_mc`: the letters A-D of the first word of the reference ("A" if none).
    public static func processGroundTruthMultipleChoice(_ response: String) -> String {
        let first = PythonText.split(response).first ?? ""
        let cleaned = String(String.UnicodeScalarView(first.unicodeScalars.filter { ("A"..."D").contains($0) }))
        return cleaned.isEmpty ? "A" : cleaned
    }

    /// `process_math`: the number after "The answer is", else the last word with a digit in the first
    /// paragraph; then its digits up to the first '.'.
    public static func processMath(_ response: String) -> String {
        var answer = ""
        if let value = firstWord(after: "The answer is ", in: response) {
            answer = value
        } else {
            let words = PythonText.split(PythonText.split(response, separator: "\n\n")[0], separator: " " as Unicode.Scalar)
            for word in words.reversed() where word.unicodeScalars.contains(where: PythonText.isDigit) { answer = word; break }
        }
        var digits = String.UnicodeScalarView()
        for s in answer.unicodeScalars {
            if PythonText.isDigit(s) { digits.append(s) }
            if s == "." { break }
        }
        return String(digits)
    }

    /// `re.search(prefix + r"(\S+)", text).group(1)`.
    static func firstWord(after prefix: String, in text: String) -> String? {
        let s = Array(text.unicodeScalars), p = Array(prefix.unicodeScalars)
        guard s.count > p.count else { return nil }
        for start in 0..<(s.count - p.count) where Array(s[start..<(start + p.count)]) == p {
            var end = start + p.count
            while end < s.count, !PythonText.isSpace(s[end]) { end += 1 }
            if end > start + p.count {
                var view = String.UnicodeScalarView(); view.append(contentsOf: s[(start + p.count)..<end])
                return String(view)
            }
        }
        return nil
    }

    /// `process_gt_code`.
    public static func processGroundTruthCode(_ response: String) -> String {
        var out = collapseWhitespace(response)
        for (old, new) in [(",", ""), ("'", ""), ("\\", ""), (".0", ""), ("] [", "]["), ("[ [", "[["), ("] ]", "]]")] {
            out = PythonText.replace(out, old, new)
        }
        return out
    }

    /// `process_output_code`: the last (or, after "the final output", the first) len(gt words) + 3 words.
    public static func processOutputCode(_ response: String, groundTruth: String) -> String {
        let keep = PythonText.split(groundTruth).count + 3
        var out = processGroundTruthCode(response)
        for old in ["will be", "of the code", "is", "would be", "the value of", "the result of", "printed"] {
            out = PythonText.replace(out, old, "")
        }
        if PythonText.contains(out, "the final output") {
            out = PythonText.split(out, separator: "the final output").last!
            return Array(splitOnWhitespaceRuns(out).prefix(keep)).joined(separator: " ")
        }
        return Array(splitOnWhitespaceRuns(out).suffix(keep)).joined(separator: " ")
    }

    /// `re.sub(r'\s+', ' ', text)`.
    static func collapseWhitespace(_ text: String) -> String { splitOnWhitespaceRuns(text).joined(separator: " ") }

    /// `re.split(r'\s+', text)`: keeps the empty pieces at the ends.
    static func splitOnWhitespaceRuns(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = String.UnicodeScalarView()
        var inRun = false
        for s in text.unicodeScalars {
            if PythonText.isSpace(s) {
                if !inRun { pieces.append(String(current)); current = String.UnicodeScalarView(); inRun = true }
            } else {
                current.append(s); inRun = false
            }
        }
        pieces.append(String(current))
        return pieces
    }

    /// em.py's `exact_match_score`: option answers (reference made of A-D only) score 1 when equal and 0.25 when
    /// the predicted letters are a subset; otherwise numbers compare as floats, else the reference (spaces
    /// removed, lower-cased) must occur in the first line longer than one character of the prediction.
    public static func exactMatch(_ prediction: String, _ groundTruth: String) -> Double {
        let gt = AnswerNormalization.normalize(groundTruth, lowercase: false)
        let isOptions = gt.unicodeScalars.allSatisfy { ("A"..."D").contains($0) }
        if isOptions {
            let pred = AnswerNormalization.normalize(prediction, lowercase: false)
            if PythonText.equal(pred, gt) { return 1 }
            return Set(pred.unicodeScalars).isSubset(of: Set(gt.unicodeScalars)) ? 0.25 : 0
        }
        if let p = PythonText.parseFloat(prediction), let g = PythonText.parseFloat(groundTruth) { return p == g ? 1 : 0 }
        var candidate = prediction
        for line in PythonText.split(prediction, separator: "\n" as Unicode.Scalar) where line.unicodeScalars.count > 1 {
            candidate = line; break
        }
        func squash(_ s: String) -> String { PythonText.replace(PythonText.lower(s), " ", "") }
        return PythonText.contains(squash(candidate), squash(groundTruth)) ? 1 : 0
    }
}
