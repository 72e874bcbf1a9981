import Foundation
import MambaLM
import TensorCore

/// Paths of the committed fixtures (Tests/Fixtures, written by scripts/make_fixtures.py) and of the
/// official ReMamba goldens (Tests/Fixtures/remamba-official: a verbatim copy of the project's shared
/// fixtures, made by the authors' code; see its README).
enum Fixtures {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let root = tests.appendingPathComponent("Fixtures")
    static func mamba1(_ name: String) -> URL { root.appendingPathComponent("mamba1/\(name)") }
    static let official = root.appendingPathComponent("remamba-official")

    static func outputs(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(path: mamba1("\(name).outputs.safetensors").path)
    }

    static func model(_ name: String) throws -> MambaModel {
        try MambaModel(directory: ModelDirectory(mamba1(name)))
    }

    /// A new scratch directory; the caller removes it.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("remamba-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
