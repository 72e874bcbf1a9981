import Foundation

/// Paths of the committed fixtures (Tests/Fixtures; metrics/ is written by scripts/fixtures/metrics.py).
enum EvalFixtures {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let root = tests.appendingPathComponent("Fixtures")
    static let metrics = root.appendingPathComponent("metrics")
    static let demoModel = root.appendingPathComponent("demo-random")

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mambaeval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
