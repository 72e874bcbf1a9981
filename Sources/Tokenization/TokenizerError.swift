import Foundation

/// Everything that can go wrong while reading a tokenizer.json or the text handed to the tokenizer.
/// Each message names the file and the key or component at fault, so that a user can fix the file.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// The file (or the directory's tokenizer.json) could not be read at all.
    case unreadableFile(path: String, reason: String)
    /// The bytes are not JSON, or a key has the wrong JSON type.
    case malformedJSON(path: String, reason: String)
    /// A required key is absent, e.g. `model` or `model.vocab`.
    case missingKey(path: String, key: String)
    /// A component whose type (or option) this reader does not implement; never encode silently wrong.
    case unsupportedComponent(path: String, component: String, detail: String)
    /// The vocabulary and merges (or added tokens, templates) contradict each other.
    case inconsistentVocabulary(path: String, detail: String)
    /// Input text that is not valid UTF-8 (the tokenizer only accepts text).
    case invalidUTF8(source: String)

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            return "cannot read tokenizer file \(path): \(reason)"
        case .malformedJSON(let path, let reason):
            return "\(path) is not a valid tokenizer.json: \(reason)"
        case .missingKey(let path, let key):
            return "\(path): missing required key '\(key)'"
        case .unsupportedComponent(let path, let component, let detail):
            return "\(path): unsupported \(component): \(detail)"
        case .inconsistentVocabulary(let path, let detail):
            return "\(path): inconsistent vocabulary: \(detail)"
        case .invalidUTF8(let source):
            return "\(source) is not valid UTF-8 text"
        }
    }
}

/// Problems found while decoding the JSON, before the file name is known; `Tokenizer.init(url:)`
/// turns them into `TokenizerError` with the path attached.
enum TokenizerFileProblem: Error {
    case unsupported(component: String, detail: String)
    case missing(key: String)
    case inconsistent(String)

    func error(path: String) -> TokenizerError {
        switch self {
        case .unsupported(let component, let detail):
            return .unsupportedComponent(path: path, component: component, detail: detail)
        case .missing(let key):
            return .missingKey(path: path, key: key)
        case .inconsistent(let detail):
            return .inconsistentVocabulary(path: path, detail: detail)
        }
    }
}
