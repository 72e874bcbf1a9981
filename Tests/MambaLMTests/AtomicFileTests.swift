import XCTest
import Foundation
import MambaLM

/// AtomicFile replaces an existing file every time (Foundation's replaceItemAt on Linux once left the
/// target missing on the second replacement, which lost training checkpoints) and leaves no temporary file.
final class AtomicFileTests: XCTestCase {
    func testRepeatedReplacementKeepsTheLatestContents() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("remamba-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("checkpoint.bin")
        for round in 0..<4 {
            try AtomicFile.write(Data("round \(round)".utf8), to: url)
            XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "round \(round)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["checkpoint.bin"])
    }
}
