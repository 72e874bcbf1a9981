/// The synthetic long-context datasets: their names, prompt templates ({context}, {input} as LongBench's),
/// generation lengths and metrics. Passage retrieval and count reuse LongBench's metrics; the rest score the
/// share of the expected values (comma-separated in the answer) that occur in the prediction, case-insensitively.
public enum SyntheticTask: String, CaseIterable, Sendable {
    case passkey
    case multikeyNeedle = "multikey_needle"
    case keyValueRetrieval = "kv_retrieval"
    case passageRetrieval = "synthetic_passage_retrieval"
    case passageCount = "synthetic_passage_count"
    case variableTracking = "variable_tracking"

    public var template: String {
        switch self {
        case .passkey:
            return "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information there.\n\n{context}\n\nQuestion: {input}\nAnswer:"
        case .multikeyNeedle:
            return "Some special magic numbers are hidden within the following text. Make sure to memorize them. I will quiz you about the numbers afterwards.\n\n{context}\n\nQuestion: {input}\nAnswer:"
        case .keyValueRetrieval:
            return "Extract the value corresponding to the specified key in the JSON object below.\n\n{context}\n\n{input}"
        case .passageRetrieval:
            return "Here are some paragraphs, along with an abstract taken from one of them. Please determine which paragraph the abstract is from.\n\n{context}\n\nThe following is an abstract.\n\n{input}\n\nPlease enter the number of the paragraph that the abstract is from. The answer format must be like \"Paragraph 1\", \"Paragraph 2\", etc.\n\nThe answer is: "
        case .passageCount:
            return "There are some paragraphs below. Some of them may be duplicates. Please carefully read these paragraphs and determine how many unique paragraphs there are after removing duplicates.\n\n{context}\n\nPlease enter the final count of unique paragraphs after removing duplicates. The output format should only contain the number, such as 1, 2, 3, and so on.\n\nThe final answer is: "
        case .variableTracking:
            return "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\n\nQuestion: {input}\nAnswer: According to the chain(s) of variable assignment in the text above, the variables assigned the value are:"
        }
    }

    public var maxNewTokens: Int { self == .variableTracking ? 48 : 32 }

    /// Needle tasks get a depth × length heat map.
    public var hasDepth: Bool { self != .passageCount }

    var metric: LongBenchDataset.Metric {
        switch self {
        case .passageRetrieval: return .retrieval
        case .passageCount: return .count
        default: return .substringAll
        }
    }
}

extension LongBenchScores {
    /// The synthetic tasks' string match: the share of the comma-separated expected values of `groundTruth`
    /// that occur in the prediction, ignoring case (RULER's string_match_all on one answer).
    public static func substringAll(_ prediction: String, _ groundTruth: String) -> Double {
        let expected = PythonText.split(groundTruth, separator: ", ").filter { !$0.isEmpty }
        if expected.isEmpty { return 0 }
        let haystack = PythonText.lower(prediction)
        let found = expected.filter { PythonText.contains(haystack, PythonText.lower($0)) }.count
        return Double(found) / Double(expected.count)
    }
}
