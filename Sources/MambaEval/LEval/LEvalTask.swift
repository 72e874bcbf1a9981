/// The closed-ended L-Eval tasks this package runs, with the prompts of L-Eval's baseline scripts (system prompt +
/// the exam question format, without a chat template since the models here are base/SFT Mamba models) and the
/// answer extraction of its auto_eval.py.
public enum LEvalTask: String, CaseIterable, Sendable {
    case coursera, quality, tpo, gsm100, codeU, sciFi = "sci_fi"

    /// L-Eval's `max_new_tokens`.
    public static let maxNewTokens = 512

    /// `get_sys_prompt` of Baselines/LEval_config.py for the exam metric, verbatim (typos included).
    public var systemPrompt: String {
        switch self {
        case .gsm100:
            return "Given several question answer pairs, you need to follow a similar format to answer the last question. Make sure the response is end with The answer is _ . "
        case .coursera:
            return "Now you are given a very long document. Please follow the instruction based on this document. For multi-choice questions, there could be a sinlge correct option or multiple correct options. Please only provide the letter corresponding to the answer (like A or AB) when answering. "
        case .codeU:
            return "Now you are given a code base consisting of a large amount of functions and the corresponding comments. In the end, I will call some functions defined in the code base. Please carefully read these codes and comments and answer the question."
        case .sciFi:
            return "Now you are given a scientific fiction. I will ask you some questions and the answer should be \"True\" or \"False\". Notice that you should answer the question based on the evidence in the document instead of your background knowledge."
        case .quality, .tpo:
            return "Now you are given a very long document. Please follow the instruction based on this document. For multi-choice questions, there is only a sinlge correct option. Please only provide the letter corresponding to the answer (like A or B) when answering. For other questions, please directly give the concise and accurate answer. "
        }
    }

    /// The prompt of one instruction over the (already truncated) document.
    public func prompt(document: String, instruction: String) -> String {
        switch self {
        case .gsm100, .codeU: return systemPrompt + document + "\n\n" + instruction
        default:
            return systemPrompt + "Document is as follows. \(document) \nQuestion: \(instruction).  Please directly give answer without any additonal output or explanation \nAnswer:"
        }
    }

    /// sci_fi's second question: the same instruction against real-world knowledge, no document.
    public func factPrompt(instruction: String) -> String? {
        guard self == .sciFi else { return nil }
        return PythonText.replace(instruction, "based on the world described in the document.",
                                  "based on the real-world knowledge and facts up until your last training") + "\nAnswer:"
    }

    /// codeU keeps the end of the code base when truncating; the others keep the beginning.
    public var truncatesFromLeft: Bool { self == .codeU }

    public enum Failure: Error, CustomStringConvertible {
        case noFact(String)
        public var description: String {
            switch self { case .noFact(let s): return "sci_fi answer \(String(reflecting: s)) has no \"[fact:\" part" }
        }
    }

    /// (prediction, reference) pairs after L-Eval's extraction; sci_fi gives two pairs (loyalty, fact).
    public func scoredPairs(prediction: String, groundTruth: String) throws -> [(String, String)] {
        switch self {
        case .coursera, .quality, .tpo:
            return [(LEvalExam.processOutputMultipleChoice(prediction, coursera: self == .coursera), LEvalExam.processGroundTruthMultipleChoice(groundTruth))]
        case .gsm100: return [(LEvalExam.processMath(prediction), LEvalExam.processMath(groundTruth))]
        case .codeU:
            return [(LEvalExam.processOutputCode(prediction, groundTruth: groundTruth), LEvalExam.processGroundTruthCode(groundTruth))]
        case .sciFi:
            guard let reference = Self.judgeParts(groundTruth) else { throw Failure.noFact(groundTruth) }
            let predicted = Self.judgeAnswers(prediction)
            return [(predicted.0, reference.0), (predicted.1, reference.1)]
        }
    }

    /// `process_gt_judge`: lower-cased (loyalty, fact) around "[fact:", the fact without its last character.
    static func judgeParts(_ text: String) -> (String, String)? {
        let parts = PythonText.split(PythonText.lower(text), separator: "[fact:")
        guard parts.count > 1 else { return nil }
        let fact = String(String.UnicodeScalarView(parts[1].unicodeScalars.dropLast()))
        return (PythonText.strip(parts[0]), PythonText.strip(fact))
    }

    /// `process_output_judge`: the first true/false word of each part, "<error>" where none.
    static func judgeAnswers(_ text: String) -> (String, String) {
        let (loyalty, fact) = judgeParts(text) ?? (PythonText.strip(PythonText.lower(text)), "")
        func verdict(_ s: String) -> String {
            for word in PythonText.split(s) {
                if PythonText.contains(word, "true") { return "true" }
                if PythonText.contains(word, "false") { return "false" }
            }
            return "<error>"
        }
        return (verdict(loyalty), verdict(fact))
    }

    /// compute_exact_match: 100 × mean of exact_match_score over the pairs, rounded to 4 decimals as L-Eval.
    public static func score(_ pairs: [(String, String)]) -> Double {
        guard !pairs.isEmpty else { return .nan }
        let total = pairs.reduce(0.0) { $0 + LEvalExam.exactMatch($1.0, $1.1) }
        return LongBenchScorer.pythonRound(100.0 * total / Double(pairs.count), digits: 4)
    }
}
