import Foundation
@testable import OutputFiles
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The output writer (issue 16): devices and FIFOs are written in place, links followed, regular files
/// replaced atomically, bad paths refused before anything is written, and a failure leaves nothing new.
final class OutputFileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("remamba-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        chmod(directory.path, 0o755)
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    func contents(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
    func fileType(_ path: String) -> mode_t { var info = stat(); lstat(path, &info); return info.st_mode & S_IFMT }
    var names: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted() }

    /// Foundation's replaceItemAt on Linux once left the target missing on the second replacement (lost
    /// training checkpoints): every round must leave the latest contents, the file's mode and no temporary file.
    func testRegularFileIsReplacedEveryTimeKeepingItsMode() throws {
        let file = path("checkpoint.bin")
        for round in 0..<4 {
            try OutputFile.write(Data("round \(round)".utf8), to: file)
            XCTAssertEqual(try contents(file), "round \(round)")
            if round == 0 { chmod(file, 0o600) }
        }
        var info = stat()
        stat(file, &info)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(names, ["checkpoint.bin"])
    }

    func testDevNullStaysADevice() throws {
        XCTAssertEqual(try OutputTarget("/dev/null"), .stream(path: "/dev/null"))
        try OutputFile.write(Data(repeating: 7, count: 100_000), to: "/dev/null")
        XCTAssertEqual(fileType("/dev/null"), S_IFCHR, "/dev/null must not be replaced by a regular file")
        XCTAssertEqual(try OutputTarget("-"), .standardOutput)
    }

    func testFIFOIsStreamedToItsReader() throws {
        let fifo = path("pipe")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let payload = Data((0..<200_000).map { UInt8($0 % 251) })   // more than a pipe buffer: really streamed
        let received = expectation(description: "reader got the data")
        nonisolated(unsafe) var read = Data()
        Thread.detachNewThread {
            read = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: fifo)).readToEnd()) ?? Data()
            received.fulfill()
        }
        try OutputFile.write(payload, to: fifo)
        wait(for: [received], timeout: 10)
        XCTAssertEqual(read, payload)
        XCTAssertEqual(fileType(fifo), S_IFIFO)
        XCTAssertEqual(names, ["pipe"])
    }

    func testSymlinkIsFollowedNotReplaced() throws {
        let target = path("real.json"), link = path("link.json")
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        XCTAssertEqual(symlink("real.json", link), 0)   // relative, as `ln -s` makes them
        try OutputFile.write(Data("new".utf8), to: link)
        XCTAssertEqual(fileType(link), S_IFLNK)
        XCTAssertEqual(try contents(target), "new")
        // A dangling link: the file it names is created.
        let dangling = path("dangling.json")
        XCTAssertEqual(symlink("created.json", dangling), 0)
        try OutputFile.write(Data("made".utf8), to: dangling)
        XCTAssertEqual(fileType(dangling), S_IFLNK)
        XCTAssertEqual(try contents(path("created.json")), "made")
        try OutputFile.append(Data("+".utf8), to: link)
        XCTAssertEqual(try contents(target), "new+")
    }

    func testMissingDirectoryIsRefusedBeforeAnythingIsWritten() throws {
        let good = path("logits.safetensors"), bad = path("no/such/dir/trace.json")
        XCTAssertThrowsError(try OutputFile.write([(good, Data("x".utf8)), (bad, Data("y".utf8))])) { error in
            XCTAssertEqual(error as? OutputError, .missingDirectory(path: bad, directory: path("no/such/dir")))
            print("expected error: \(error)")
        }
        XCTAssertEqual(names, [], "the first output must not be written when the second cannot be")
        XCTAssertThrowsError(try OutputFile.validate([directory.path])) { XCTAssertEqual($0 as? OutputError, .isDirectory(path: directory.path)) }
        XCTAssertThrowsError(try OutputFile.validate([good, good])) { XCTAssertEqual($0 as? OutputError, .repeated(path: good)) }
    }

    /// `logits --out F --trace X` with X unwritable used to leave F behind. A read-only directory (as root,
    /// who may write anywhere a mode forbids, /proc, which refuses new files) makes the second output fail;
    /// the first is then not left behind either, and a file that existed keeps its old contents.
    func testReadOnlyDirectoryFailsAndLeavesNoPartialOutput() throws {
        let readOnly: String
        if geteuid() == 0 {
            readOnly = "/proc/remamba-output-test"
        } else {
            let sub = path("read-only")
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
            chmod(sub, 0o555)
            readOnly = sub + "/trace.json"
        }
        let created = path("logits.safetensors"), existing = path("old.json")
        try Data("old".utf8).write(to: URL(fileURLWithPath: existing))
        XCTAssertThrowsError(try OutputFile.write([(created, Data("new".utf8)), (existing, Data("new".utf8)), (readOnly, Data("t".utf8))])) {
            print("expected error: \($0)")
            XCTAssertTrue("\($0)".contains(readOnly))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: created))
        XCTAssertEqual(try contents(existing), "old")
        XCTAssertFalse(FileManager.default.fileExists(atPath: readOnly))
        XCTAssertEqual(names.filter { $0.hasSuffix(".tmp") }, [], "no temporary file is left")
    }

    func testAppendCreatesThenAppends() throws {
        let log = path("train_log.jsonl")
        try OutputFile.append(Data("a\n".utf8), to: log)
        try OutputFile.append(Data("b\n".utf8), to: log)
        XCTAssertEqual(try contents(log), "a\nb\n")
        try OutputFile.append(Data("c\n".utf8), to: "/dev/null")
        XCTAssertEqual(fileType("/dev/null"), S_IFCHR)
    }
}
