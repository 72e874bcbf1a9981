import XCTest
import Foundation

/// The built `remamba` executable, run as a user runs it: beside this test bundle in the build directory
/// (`swift build --build-tests` builds it with the tests).
enum RemambaExecutable {
    struct Result {
        /// False when a signal ended the process (a crash).
        let exited: Bool
        let status: Int32
        let output: String
        let error: String
    }

    static var url: URL? {
        let beside = [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])].compactMap { $0 }
            .map { $0.resolvingSymlinksInPath().deletingLastPathComponent() }
        // The bundle is .build/debug/<package>PackageTests.xctest (a file on Linux, a directory on macOS).
        let candidates = beside + beside.map { $0.deletingLastPathComponent().deletingLastPathComponent() }
        return candidates.map { $0.appendingPathComponent("remamba") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `remamba arguments…` to completion (stdout and stderr read concurrently, so neither pipe fills).
    static func run(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let executable = try XCTUnwrap(url, "no remamba executable beside the test bundle: build with `swift build --build-tests`", file: file, line: line)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = environment["OPENBLAS_CORETYPE"] ?? "Haswell"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errorData = LockedData()
        let reader = Thread { errorData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.isSet { usleep(1000) }
        return Result(exited: process.terminationReason == .exit, status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                      error: String(decoding: errorData.value, as: UTF8.self))
    }

    final class LockedData: @unchecked Sendable {
        private let lock = NSLock()
        private var data: Data?
        func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return data != nil }
        var value: Data { lock.lock(); defer { lock.unlock() }; return data ?? Data() }
    }
}
