import Foundation
import FuzzTargets
import XCTest

/// Every committed fuzz input — the corpora under fuzz/corpus/TARGET and the inputs that once crashed, under
/// fuzz/crashes/TARGET — run through the same function libFuzzer calls (scripts/fuzz). A crash fails the whole
/// test process, so passing means none of them crashes any more; the corpora must not be empty, and the replay
/// must stay fast enough for CI.
final class CorpusReplayTests: XCTestCase {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz")

    static func inputs(_ folder: String, _ target: FuzzTarget) -> [URL] {
        let directory = fuzz.appendingPathComponent("\(folder)/\(target.rawValue)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
    }

    func testEveryCorpusAndCrashInputRunsWithoutCrashing() throws {
        let start = Date()
        for target in FuzzTarget.allCases {
            let corpus = Self.inputs("corpus", target), crashes = Self.inputs("crashes", target)
            XCTAssertFalse(corpus.isEmpty, "fuzz/corpus/\(target.rawValue) has no seed inputs")
            let targetStart = Date()
            for url in corpus + crashes { target.run(try Data(contentsOf: url)) }
            print("fuzz replay \(target.rawValue): \(corpus.count) corpus + \(crashes.count) crash inputs in "
                  + String(format: "%.2f s", Date().timeIntervalSince(targetStart)))
        }
        FuzzTarget.removeScratchFiles()
        XCTAssertLessThan(Date().timeIntervalSince(start), 60, "the replay must stay well under a minute")
    }
}
