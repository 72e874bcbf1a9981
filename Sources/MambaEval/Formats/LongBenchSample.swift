/// One line of a LongBench (v1 or -E) jsonl file: {input, context, answers, length, dataset, language,
/// all_classes, _id}. The synthetic suite writes the same format with `depth` (needle position, 0…1) added.
public struct LongBenchSample: Codable, Sendable, Equatable {
    public var input: String
    public var context: String
    public var answers: [String]
    public var length: Int
    public var dataset: String
    public var language: String
    public var allClasses: [String]?
    public var id: String
    public var depth: Double?

    enum CodingKeys: String, CodingKey {
        case input, context, answers, length, dataset, language, allClasses = "all_classes", id = "_id", depth
    }

    public init(input: String, context: String, answers: [String], length: Int, dataset: String, language: String = "en",
                allClasses: [String]? = nil, id: String, depth: Double? = nil) {
        self.input = input; self.context = context; self.answers = answers; self.length = length
        self.dataset = dataset; self.language = language; self.allClasses = allClasses; self.id = id; self.depth = depth
    }
}

/// One line of an L-Eval jsonl file: a long document with several instructions and their reference outputs.
public struct LEvalSample: Codable, Sendable, Equatable {
    public var input: String
    public var instructions: [String]
    public var outputs: [String]
    public var evaluation: String
    public var source: String?

    public init(input: String, instructions: [String], outputs: [String], evaluation: String, source: String? = nil) {
        self.input = input; self.instructions = instructions; self.outputs = outputs; self.evaluation = evaluation; self.source = source
    }
}

/// One multiple-choice question for log-likelihood scoring: {context, choices, gold}. WinoGrande-style
/// questions, whose options differ in the context, give `contexts` (one per option) and one `continuation`.
public struct MultipleChoiceSample: Codable, Sendable, Equatable {
    public var context: String?
    public var choices: [String]?
    public var gold: Int
    public var contexts: [String]?
    public var continuation: String?
    public var id: String?

    enum CodingKeys: String, CodingKey { case context, choices, gold, contexts, continuation, id = "_id" }

    public init(context: String, choices: [String], gold: Int, id: String? = nil) {
        self.context = context; self.choices = choices; self.gold = gold; self.id = id
    }

    public init(contexts: [String], continuation: String, gold: Int, id: String? = nil) {
        self.contexts = contexts; self.continuation = continuation; self.gold = gold; self.id = id
    }

    /// The (context, continuation) request per option; an error text if the line is not one of the two shapes.
    public func requests(targetDelimiter: String = " ") throws -> [(context: String, continuation: String)] {
        if let context, let choices, contexts == nil, continuation == nil {
            guard !choices.isEmpty else { throw MultipleChoiceError.invalid("\"choices\" is empty") }
            guard choices.indices.contains(gold) else { throw MultipleChoiceError.invalid("\"gold\" \(gold) is not an index of the \(choices.count) choices") }
            return choices.map { (context, targetDelimiter + $0) }
        }
        if let contexts, let continuation, context == nil, choices == nil {
            guard !contexts.isEmpty else { throw MultipleChoiceError.invalid("\"contexts\" is empty") }
            guard contexts.indices.contains(gold) else { throw MultipleChoiceError.invalid("\"gold\" \(gold) is not an index of the \(contexts.count) contexts") }
            return contexts.map { ($0, targetDelimiter + continuation) }
        }
        throw MultipleChoiceError.invalid("expected {context, choices, gold} or {contexts, continuation, gold}")
    }

    /// What acc_norm divides by: the length in characters of each choice (lm-eval's `len(choice)`).
    public var choiceLengths: [Int] {
        if let choices { return choices.map { $0.unicodeScalars.count } }
        return (contexts ?? []).map { $0.unicodeScalars.count }
    }
}

public enum MultipleChoiceError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String { switch self { case .invalid(let m): return m } }
}
