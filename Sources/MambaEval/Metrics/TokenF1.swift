/// LongBench's `f1_score` / `qa_f1_score`: bag-of-tokens F1 of the normalized answer.
public enum TokenF1 {
    /// F1 of two token lists by multiset overlap (Counter &); 0 when nothing overlaps.
    public static func score(prediction: [String], groundTruth: [String]) -> Double {
        var counts: [[UInt8]: Int] = [:]
        for t in groundTruth { counts[Array(t.utf8), default: 0] += 1 }
        var same = 0
        for t in prediction {
            let key = Array(t.utf8)
            if let c = counts[key], c > 0 { counts[key] = c - 1; same += 1 }
        }
        if same == 0 { return 0 }
        let precision = 1.0 * Double(same) / Double(prediction.count)
        let recall = 1.0 * Double(same) / Double(groundTruth.count)
        return (2 * precision * recall) / (precision + recall)
    }

    /// `qa_f1_score(prediction, ground_truth)`.
    public static func qa(_ prediction: String, _ groundTruth: String) -> Double {
        score(prediction: PythonText.split(AnswerNormalization.normalize(prediction)),
              groundTruth: PythonText.split(AnswerNormalization.normalize(groundTruth)))
    }
}
