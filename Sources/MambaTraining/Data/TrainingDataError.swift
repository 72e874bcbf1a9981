/// Why training data could not be read; every case names the file (and the line, for JSONL).
public enum TrainingDataError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformedLine(path: String, line: Int, reason: String)
    case unknownFormat(path: String, line: Int, keys: [String])
    case empty(path: String, reason: String)
    case noEndOfSequenceToken

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): cannot read: \(reason)"
        case .malformedLine(let path, let line, let reason): return "\(path):\(line): \(reason)"
        case .unknownFormat(let path, let line, let keys):
            return "\(path):\(line): cannot tell the format from the keys \(keys) (expected OpenOrca system_prompt/question/response, LongAlpaca instruction/output[/input] or prompt/completion; or give --format)"
        case .empty(let path, let reason): return "\(path): no training examples (\(reason))"
        case .noEndOfSequenceToken: return "the tokenizer has no end-of-sequence token to append to responses"
        }
    }
}
