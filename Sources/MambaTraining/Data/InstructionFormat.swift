/// The JSONL instruction formats: each line one object, its keys name the prompt and the response.
public enum InstructionFormat: String, CaseIterable, Sendable {
    /// OpenOrca: `system_prompt`, `question`, `response`.
    case openOrca = "openorca"
    /// LongAlpaca: `instruction`, `output`, optional `input`.
    case longAlpaca = "longalpaca"
    /// `prompt`, `completion`.
    case promptCompletion = "prompt-completion"

    /// The format whose required keys the object has (nil: none).
    public static func detect(keys: Set<String>) -> InstructionFormat? {
        allCases.first { $0.requiredKeys.isSubset(of: keys) }
    }

    var requiredKeys: Set<String> {
        switch self {
        case .openOrca: return ["question", "response"]
        case .longAlpaca: return ["instruction", "output"]
        case .promptCompletion: return ["prompt", "completion"]
        }
    }

    /// (prompt, response) of one record, or the key that is missing or not a string.
    func split(_ object: [String: Any]) -> Result<(prompt: String, response: String), MissingKey> {
        func string(_ key: String) -> Result<String, MissingKey> {
            guard let value = object[key] as? String else { return .failure(MissingKey(key: key)) }
            return .success(value)
        }
        switch self {
        case .openOrca:
            // The official training code (lblankl/ReMamba dataset/Orca.py) encodes the question alone as the
            // prompt; system_prompt is not used.
            return string("question").flatMap { q in string("response").map { (q, $0) } }
        case .longAlpaca:
            // dataset/NotemplateLong.py encodes `instruction` alone; an `input`, when present and not empty,
            // follows it on a new line (the Alpaca convention).
            return string("instruction").flatMap { instruction in
                string("output").map { output in
                    let input = (object["input"] as? String) ?? ""
                    return (input.isEmpty ? instruction : instruction + "\n" + input, output)
                }
            }
        case .promptCompletion:
            return string("prompt").flatMap { p in string("completion").map { (p, $0) } }
        }
    }

    struct MissingKey: Error { let key: String }
}
