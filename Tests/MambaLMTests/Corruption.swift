import Foundation
import XCTest
@testable import MambaLM

/// Tools to break a model directory on purpose: copy a fixture (`copyOfFixture`), then edit its
/// config.json or rewrite its safetensors bytes (8-byte little-endian header length, JSON header, data).
enum Corruption {
    /// Rewrites the JSON file `name` of `directory` after `edit` changed its top-level object.
    static func editJSON(_ directory: URL, _ name: String = "config.json", _ edit: (inout [String: Any]) -> Void) throws {
        let url = directory.appendingPathComponent(name)
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: url)
    }

    static func write(_ text: String, to directory: URL, _ name: String) throws {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }

    /// Cuts a file down to its first `length` bytes.
    static func truncate(_ url: URL, to length: Int) throws {
        let data = try Data(contentsOf: url)
        try data.prefix(length).write(to: url)
    }
}

/// A safetensors file taken apart: the header as a JSON object and the data section, to be edited
/// and written back byte by byte (with a chosen header length, if wanted).
struct RawSafetensors {
    var header: [String: Any]
    var data: Data

    init(_ url: URL) throws {
        let bytes = try Data(contentsOf: url)
        let length = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + length))) as! [String: Any]
        data = bytes.subdata(in: (8 + length)..<bytes.count)
    }

    /// The fields of tensor `name` (dtype, shape, data_offsets).
    subscript(_ name: String) -> [String: Any] {
        get { header[name] as! [String: Any] }
        set { header[name] = newValue }
    }

    func offsets(_ name: String) -> [Int] { self[name]["data_offsets"] as! [Int] }

    /// Writes the file; `headerLength` replaces the true length of the JSON header in the first 8 bytes.
    func write(to url: URL, headerLength: UInt64? = nil) throws {
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var file = Data()
        let length = headerLength ?? UInt64(json.count)
        for i in 0..<8 { file.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
        file.append(json)
        file.append(data)
        try file.write(to: url)
    }

    /// Reads, edits and writes back the file at `url`.
    static func edit(_ url: URL, _ change: (inout RawSafetensors) -> Void) throws {
        var file = try RawSafetensors(url)
        change(&file)
        try file.write(to: url)
    }
}

extension XCTestCase {
    /// A scratch directory, deleted when the test ends.
    func scratchDirectory() throws -> URL {
        let url = try Fixtures.temporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A fresh copy of a committed fixture (e.g. "tiny_a") in a scratch directory, to be damaged.
    func copyOfFixture(_ fixture: String) throws -> URL {
        let url = try scratchDirectory().appendingPathComponent(fixture)
        try FileManager.default.copyItem(at: Fixtures.mamba1(fixture), to: url)
        return url
    }

    /// Loads `directory` (config, weights, strict verification) and checks that it fails with a
    /// `LoadingError` accepted by `matches`, whose description contains every string of `mentions`.
    func assertLoadingFails(_ directory: URL, lenient: Bool = false, mentions: [String],
                            file: StaticString = #filePath, line: UInt = #line,
                            _ matches: (LoadingError) -> Bool) {
        do throws(LoadingError) {
            _ = try MambaModel(directory: ModelDirectory(directory, lenientConfiguration: lenient))
            XCTFail("loading \(directory.path) succeeded; an error was expected", file: file, line: line)
        } catch {
            print("expected error: \(error.description)")
            XCTAssertTrue(matches(error), "wrong case: \(error)", file: file, line: line)
            for text in mentions {
                XCTAssertTrue(error.description.contains(text), "\"\(error.description)\" does not mention \(text)", file: file, line: line)
            }
        }
    }
}
