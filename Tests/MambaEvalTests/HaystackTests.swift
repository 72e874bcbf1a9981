import XCTest
import Foundation
@testable import MambaEval

/// Essays from a directory: every *.txt in sorted path order, also when the directory is a symbolic link;
/// a directory without text is an error naming it.
final class HaystackTests: XCTestCase {
    func testEssaysFromADirectoryAndFromALinkToIt() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("haystack-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let essays = root.appendingPathComponent("essays")
        try FileManager.default.createDirectory(at: essays, withIntermediateDirectories: true)
        try "The second essay ends here.".write(to: essays.appendingPathComponent("b.txt"), atomically: true, encoding: .utf8)
        try "The first essay is short. It has two sentences.".write(to: essays.appendingPathComponent("a.txt"), atomically: true, encoding: .utf8)
        try "not an essay".write(to: essays.appendingPathComponent("notes.md"), atomically: true, encoding: .utf8)
        let link = root.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: essays)
        let direct = try Haystack(directory: essays), linked = try Haystack(directory: link)
        XCTAssertEqual(direct.sentences.first, "The first essay is short.")
        XCTAssertEqual(direct.sentences.last, "The second essay ends here.")
        XCTAssertEqual(direct.sentences, linked.sentences)
        let empty = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try Haystack(directory: empty)) { XCTAssertTrue("\($0)".contains(empty.path), "\($0)") }
    }
}
