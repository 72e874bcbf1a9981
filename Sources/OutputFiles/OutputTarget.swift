#if canImport(Glibc)
import Glibc
#endif

/// Where an output path leads, found before anything is written. A symbolic link is followed (the file it
/// names is written, the link stays); "-" is standard output.
enum OutputTarget: Equatable {
    /// Standard output ("-").
    case standardOutput
    /// A device, FIFO or socket: written in place, streaming, never replaced.
    case stream(path: String)
    /// A regular file (`exists`) or a new one: written to a temporary file beside it, then renamed over it.
    case file(path: String, exists: Bool)

    /// The target of `path`, checked: its directory exists and is writable, it is not a directory.
    init(_ path: String) throws(OutputError) {
        if path == "-" { self = .standardOutput; return }
        let resolved = Self.followingLinks(path)
        var info = stat()
        if stat(resolved, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFDIR: throw .isDirectory(path: path)
            case S_IFREG: self = .file(path: resolved, exists: true)
            default:
                guard access(resolved, W_OK) == 0 else { throw .notWritable(path: path, reason: Self.lastError) }
                self = .stream(path: resolved)
                return
            }
        } else {
            self = .file(path: resolved, exists: false)
        }
        let directory = Self.directory(of: resolved)
        var directoryInfo = stat()
        guard stat(directory, &directoryInfo) == 0, directoryInfo.st_mode & S_IFMT == S_IFDIR else {
            throw .missingDirectory(path: path, directory: directory)
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw .notWritable(path: path, reason: "the directory \(directory) is not writable (\(Self.lastError))")
        }
    }

    /// `path` with every symbolic link on it followed (also a dangling one: its target is what gets created).
    static func followingLinks(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {  // as the kernel's ELOOP limit
            var info = stat()
            guard lstat(current, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &buffer, buffer.count - 1)
            guard length > 0 else { return current }
            let target = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = target.hasPrefix("/") ? target : directory(of: current) + "/" + target
        }
        return current
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static var lastError: String { String(cString: strerror(errno)) }
}
