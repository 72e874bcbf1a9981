/// Why an output cannot be written; each message names the path.
public enum OutputError: Error, CustomStringConvertible, Equatable {
    case missingDirectory(path: String, directory: String)
    case notWritable(path: String, reason: String)
    case isDirectory(path: String)
    case repeated(path: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingDirectory(path, directory): return "\(path): cannot write: the directory \(directory) does not exist"
        case let .notWritable(path, reason): return "\(path): cannot write: \(reason)"
        case .isDirectory(let path): return "\(path): cannot write: it is a directory"
        case .repeated(let path): return "\(path): given as two outputs of the same command"
        case let .writeFailed(path, reason): return "\(path): writing failed: \(reason)"
        }
    }
}
