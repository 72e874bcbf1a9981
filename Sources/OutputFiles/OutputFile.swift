import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one way this package writes its output files (safetensors, JSON, JSONL, SVG, tokenizer.json).
///   - A regular file, or a new one, is written to a temporary file in its directory and renamed over it
///     when complete: a reader sees the old file or the whole new one, never a part.
///   - A device, FIFO or "-" (standard output) is written directly, streaming: /dev/null stays a device.
///   - A symbolic link is followed: the file it points to is written, the link stays.
/// `write` takes every output of a command at once: all paths are checked before anything is written, all
/// regular files are staged before any is renamed into place, and on a failure nothing new is left behind
/// (staged files are removed, files this call created are removed again).
public enum OutputFile {
    /// Checks `paths` as `write` would, without writing: a command calls this before its work, so that a bad
    /// output path fails in a second, not after an hour of computing.
    public static func validate(_ paths: [String]) throws(OutputError) {
        _ = try targets(paths)
    }

    /// Writes one output.
    public static func write(_ data: Data, to path: String) throws(OutputError) {
        try write([(path, data)])
    }

    /// Writes every output of one command, or none of the new ones (see above).
    public static func write(_ outputs: [(path: String, data: Data)]) throws(OutputError) {
        let targets = try targets(outputs.map(\.path))
        var staged: [(temporary: String, final: String)] = []
        var created: [String] = []
        func undo() {
            for file in staged { unlink(file.temporary) }
            for path in created { unlink(path) }
        }
        do throws(OutputError) {
            for (target, output) in zip(targets, outputs) {
                guard case .file(let path, _) = target else { continue }
                let temporary = OutputTarget.directory(of: path) + "/.\(path.split(separator: "/").last ?? "out").\(UUID().uuidString).tmp"
                staged.append((temporary, path))
                try writeAll(output.data, to: temporary, path: output.path, flags: O_WRONLY | O_CREAT | O_EXCL, keepModeOf: path)
            }
            for (target, output) in zip(targets, outputs) {
                switch target {
                case .standardOutput: try writeAll(output.data, descriptor: STDOUT_FILENO, path: output.path)
                case .stream(let path): try writeAll(output.data, to: path, path: output.path, flags: O_WRONLY)
                case .file(let path, let exists):
                    let temporary = staged.removeFirst().temporary
                    guard rename(temporary, path) == 0 else {
                        let reason = OutputTarget.lastError
                        unlink(temporary)
                        throw .writeFailed(path: output.path, reason: "cannot rename the temporary file into place: \(reason)")
                    }
                    if !exists { created.append(path) }
                }
            }
        } catch {
            undo()
            throw error
        }
    }

    /// Appends to a log (a JSONL file), creating it if absent; devices and links are written through.
    public static func append(_ data: Data, to path: String) throws(OutputError) {
        guard case .file = try OutputTarget(path) else { return try write(data, to: path) }
        try writeAll(data, to: path, path: path, flags: O_WRONLY | O_CREAT | O_APPEND)
    }

    static func targets(_ paths: [String]) throws(OutputError) -> [OutputTarget] {
        var targets: [OutputTarget] = []
        for path in paths {
            let target = try OutputTarget(path)
            if target != .standardOutput, targets.contains(target) { throw .repeated(path: path) }
            targets.append(target)
        }
        return targets
    }

    /// Opens `file` with `flags` (mode 0644 less the umask, or the mode of `keepModeOf` if it exists) and
    /// writes all of `data`; errors name `path`, the path the user gave.
    static func writeAll(_ data: Data, to file: String, path: String, flags: Int32, keepModeOf original: String? = nil) throws(OutputError) {
        var info = stat()
        let kept: mode_t? = original.flatMap { stat($0, &info) == 0 ? info.st_mode & 0o7777 : nil }
        let descriptor = open(file, flags | O_CLOEXEC, kept ?? 0o644)
        guard descriptor >= 0 else { throw .notWritable(path: path, reason: OutputTarget.lastError) }
        defer { close(descriptor) }
        if let kept { fchmod(descriptor, kept) }  // the umask must not narrow a replaced file's mode
        try writeAll(data, descriptor: descriptor, path: path)
    }

    static func writeAll(_ data: Data, descriptor: Int32, path: String) throws(OutputError) {
        let failure: String? = data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return OutputTarget.lastError
                }
                offset += written
            }
            return nil
        }
        if let failure { throw .writeFailed(path: path, reason: failure) }
    }
}
