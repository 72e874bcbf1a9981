import Foundation

/// Files the targets need: the repository's fixtures (found from this source file, as the tests find theirs)
/// and a scratch directory of this process, where an input is written under the name a command reads.
enum FuzzScratch {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures")
    static let tinyConfiguration = repository.appendingPathComponent("fuzz/resources/tiny-config.json")

    /// A directory for this process, made once.
    static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("remamba-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// A sub-directory of `directory` holding `files` (name → contents) and symbolic links (name → target);
    /// files written again on every call, links made once.
    static func folder(_ name: String, files: [String: Data], links: [String: URL] = [:]) -> URL {
        let url = directory.appendingPathComponent(name)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (file, target) in links where !FileManager.default.fileExists(atPath: url.appendingPathComponent(file).path) {
            try? FileManager.default.createSymbolicLink(at: url.appendingPathComponent(file), withDestinationURL: target)
        }
        for (file, contents) in files { try? contents.write(to: url.appendingPathComponent(file)) }
        return url
    }
}
