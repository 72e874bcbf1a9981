/// What LongBench does per dataset: the metric, the answer post-processing and the generation rules of
/// pred.py / eval.py (v1 and -E share them; a LongBench-E name may carry the "_e" suffix).
public struct LongBenchDataset: Sendable, Equatable {
    public enum Metric: String, Sendable {
        case qaF1 = "qa_f1_score", rougeL = "rouge_score", classification = "classification_score"
        case retrieval = "retrieval_score", retrievalZh = "retrieval_zh_score", count = "count_score"
        case codeSimilarity = "code_sim_score"
        /// jieba-based Chinese metrics, refused: this package has no Chinese word segmenter.
        case qaF1Zh = "qa_f1_zh_score", rougeZh = "rouge_zh_score"
        /// The synthetic suite's string match (see SyntheticTask).
        case substringAll = "substring_match_all"
    }

    public let name: String
    public let metric: Metric

    public static let metrics: [String: Metric] = [
        "narrativeqa": .qaF1, "qasper": .qaF1, "multifieldqa_en": .qaF1, "multifieldqa_zh": .qaF1Zh,
        "hotpotqa": .qaF1, "2wikimqa": .qaF1, "musique": .qaF1, "dureader": .rougeZh, "gov_report": .rougeL,
        "qmsum": .rougeL, "multi_news": .rougeL, "vcsum": .rougeZh, "trec": .classification, "triviaqa": .qaF1,
        "samsum": .rougeL, "lsht": .classification, "passage_retrieval_en": .retrieval, "passage_count": .count,
        "passage_retrieval_zh": .retrievalZh, "lcc": .codeSimilarity, "repobench-p": .codeSimilarity,
    ]

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unknown(String), chineseSegmentation(String)
        public var description: String {
            switch self {
            case .unknown(let n):
                return "unknown LongBench dataset \"\(n)\"; known: \((LongBenchDataset.metrics.keys.sorted() + SyntheticTask.allCases.map(\.rawValue)).joined(separator: ", "))"
            case .chineseSegmentation(let n):
                return "LongBench dataset \"\(n)\" is scored with jieba word segmentation (qa_f1_zh / rouge_zh), which this package does not implement; it is refused rather than scored differently"
            }
        }
    }

    /// A dataset by name ("hotpotqa", or "hotpotqa_e" for LongBench-E).
    public init(_ name: String) throws(Failure) {
        let base = name.hasSuffix("_e") ? String(name.dropLast(2)) : name
        guard let metric = Self.metrics[base] ?? SyntheticTask(rawValue: base)?.metric else { throw .unknown(name) }
        if metric == .qaF1Zh || metric == .rougeZh { throw .chineseSegmentation(base) }
        self.name = base
        self.metric = metric
    }

    public var synthetic: SyntheticTask? { SyntheticTask(rawValue: name) }
    public var promptTemplate: String { LongBenchPrompts.templates[name] ?? synthetic!.template }
    public var maxNewTokens: Int { LongBenchPrompts.maxNewTokens[name] ?? synthetic!.maxNewTokens }

    /// eval.py scores only the first line of the prediction for these.
    public var scoresFirstLineOnly: Bool { ["trec", "triviaqa", "samsum", "lsht"].contains(name) }
    /// pred.py adds the newline token as a second end-of-sequence token for samsum.
    public var stopsAtNewline: Bool { name == "samsum" }
    /// pred.py skips the chat template for these (irrelevant to base models, recorded for completeness).
    public var skipsChatTemplate: Bool { ["trec", "triviaqa", "samsum", "lsht", "lcc", "repobench-p"].contains(name) }

    /// One metric call, as `dataset2metric[dataset](prediction, ground_truth, all_classes=...)`.
    public func score(_ prediction: String, _ groundTruth: String, allClasses: [String]) throws -> Double {
        switch metric {
        case .qaF1: return TokenF1.qa(prediction, groundTruth)
        case .rougeL: return RougeL.score(prediction, groundTruth)
        case .classification: return LongBenchScores.classification(prediction, groundTruth, allClasses: allClasses)
        case .retrieval: return try LongBenchScores.retrieval(prediction, groundTruth)
        case .retrievalZh: return try LongBenchScores.retrieval(prediction, groundTruth, prefix: "段落")
        case .count: return LongBenchScores.count(prediction, groundTruth)
        case .codeSimilarity: return LongBenchScores.codeSimilarity(prediction, groundTruth)
        case .substringAll: return LongBenchScores.substringAll(prediction, groundTruth)
        case .qaF1Zh, .rougeZh: throw Failure.chineseSegmentation(name)
        }
    }

    /// The per-sample score of eval.py: the first-line rule, then the max over the answers (0 with none).
    public func sampleScore(prediction: String, answers: [String], allClasses: [String]) throws -> Double {
        var text = prediction
        if scoresFirstLineOnly {
            var trimmed = Substring(text)
            while trimmed.unicodeScalars.first == "\n" { trimmed = Substring(trimmed.unicodeScalars.dropFirst()) }
            text = PythonText.split(String(trimmed), separator: "\n" as Unicode.Scalar)[0]
        }
        var best = 0.0
        for answer in answers { best = max(best, try score(text, answer, allClasses: allClasses)) }
        return best
    }
}
