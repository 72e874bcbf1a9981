import CFuzzDriver
import Foundation
import FuzzTargets

/// libFuzzer's driver over one fuzz target, chosen by REMAMBA_FUZZ_TARGET (libFuzzer owns the command line).
/// SwiftPM gives every executable a Swift main, so libFuzzer's own main is not linked: this one hands the
/// command line to LLVMFuzzerRunDriver. Built and run only by scripts/fuzz.
@main
enum FuzzMain {
    nonisolated(unsafe) static var target = FuzzTarget.safetensors

    static func main() {
        let name = ProcessInfo.processInfo.environment["REMAMBA_FUZZ_TARGET"] ?? ""
        guard let chosen = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("REMAMBA_FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        target = chosen
        atexit { FuzzTarget.removeScratchFiles() }
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
    }
}

/// libFuzzer's per-input callback (its name is what the runtime links against).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzMain.target.run(data.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}
