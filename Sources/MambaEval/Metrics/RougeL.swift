/// ROUGE-L F as the PyPI `rouge` package (1.0.1) computes it through `Rouge().get_scores([p], [r], avg=True)`,
/// the way LongBench's `rouge_score` calls it:
/// - sentences are the non-empty pieces of `text.split(".")`, each whitespace-collapsed, words split on " ";
/// - with the default `exclusive=True` every count is of *distinct* words: m and n are the numbers of distinct
///   words of reference and hypothesis, and the LCS hits are the distinct words of the union, over all
///   (reference sentence, hypothesis sentence) pairs, of one LCS per pair, reconstructed as `_recon_lcs`
///   does (on ties it steps back in the hypothesis);
/// - F = 2·(P·R)/(P + R + 1e-8);
/// - LongBench returns 0 whenever the package raises: an empty hypothesis or reference (no sentence), and
///   Python's RecursionError when `_recon` would recurse deeper than the recursion limit allows.
public enum RougeL {
    /// Deepest `_recon` recursion that still fits under Python's default recursion limit (1000) at the stack
    /// depth of LongBench's eval.py (module → scorer → rouge_score → get_scores → _get_avg_scores → lambda →
    /// rouge_l_summary_level → _union_lcs → _recon_lcs → _recon…). Measured with CPython 3.11 by
    /// scripts/fixtures/metrics.py, whose cases pin it.
    public static let maximumReconstructionDepth = 989

    public static func sentences(_ text: String) -> [[String]] {
        PythonText.split(text, separator: ".").filter { !$0.isEmpty }.map { piece in
            PythonText.split(PythonText.split(piece).joined(separator: " "), separator: " " as Unicode.Scalar)
        }
    }

    /// LongBench's `rouge_score(prediction, ground_truth)`.
    public static func score(_ prediction: String, _ groundTruth: String) -> Double {
        let hypothesis = sentences(prediction), reference = sentences(groundTruth)
        if hypothesis.isEmpty || reference.isEmpty { return 0 }
        var ids: [[UInt8]: Int] = [:]
        func intern(_ sentence: [String]) -> [Int] {
            sentence.map { word in
                let key = Array(word.utf8)
                if let id = ids[key] { return id }
                ids[key] = ids.count
                return ids.count - 1
            }
        }
        let hyp = hypothesis.map(intern), ref = reference.map(intern)
        let m = Set(ref.joined()).count
        let n = Set(hyp.joined()).count
        var union = Set<Int>()
        for r in ref {
            for h in hyp {
                guard let words = lcsWords(reference: r, hypothesis: h) else { return 0 }
                union.formUnion(words)
            }
        }
        let hits = Double(union.count)
        let recall = hits / Double(m), precision = hits / Double(n)
        return 2.0 * ((precision * recall) / (precision + recall + 1e-8))
    }

    /// The words of the LCS that `_recon_lcs(x=reference, y=hypothesis)` reconstructs; nil where Python's
    /// recursion would overflow.
    static func lcsWords(reference x: [Int], hypothesis y: [Int]) -> [Int]? {
        let rows = x.count + 1, cols = y.count + 1
        var table = [Int32](repeating: 0, count: rows * cols)
        for i in 1..<rows {
            for j in 1..<cols {
                table[i * cols + j] = x[i - 1] == y[j - 1] ? table[(i - 1) * cols + j - 1] + 1
                    : max(table[(i - 1) * cols + j], table[i * cols + j - 1])
            }
        }
        var words: [Int] = []
        var i = x.count, j = y.count, depth = 1
        while i > 0 && j > 0 {
            if x[i - 1] == y[j - 1] { words.append(x[i - 1]); i -= 1; j -= 1 }
            else if table[(i - 1) * cols + j] > table[i * cols + j - 1] { i -= 1 }
            else { j -= 1 }
            depth += 1
        }
        return depth > maximumReconstructionDepth ? nil : words
    }
}
