// swift-tools-version:6.1
import PackageDescription
import Foundation

// CPU-specific code generation is opt-in by the top-level build. The hot kernels are plain Swift SIMD code in
// TensorCore, and swiftc emits baseline x86-64 (SSE) unless told the CPU; `-target-cpu` is an unsafe flag, which
// SwiftPM refuses in a package used as a versioned dependency, and a consumer would get a binary for the machine
// that built it. So the manifest adds it only when REMAMBA_TARGET_CPU is set: scripts/env.sh sets `native` for the
// CLI, tests, demo, bench and CI (like llama.cpp's GGML_NATIVE), or name a CPU, e.g. `haswell`, for a portable AVX2
// binary. Without it (as a dependency of another package) there are no unsafe flags at all. Only TensorCore gets
// it: the other targets have (almost) no SIMD loops, and `remamba bench` measured no gain, for inference or
// training, from building them native (README, Speed). `remamba bench` prints the choice (MachineLimits.kernelBuild).
let targetCPU = ProcessInfo.processInfo.environment["REMAMBA_TARGET_CPU"].flatMap { $0.isEmpty ? nil : $0 }
let kernelSettings: [SwiftSetting] = targetCPU.map { cpu in
    [.unsafeFlags(["-target-cpu", cpu]), .define("REMAMBA_TARGET_CPU_SET"),
     .define("REMAMBA_TARGET_CPU_" + cpu.replacingOccurrences(of: "-", with: "_"))] + integerDotProducts(cpu).map { .define($0) }
} ?? []

// The Q8_0 kernels' int8 dot products are x86 instructions that Swift's SIMD types cannot spell (vpdpbusd of
// AVX-512 VNNI, vpmaddubsw of AVX2), called through the compiler's intrinsics — which exist only when the target
// CPU has them. So the manifest names them as conditions: for `native` from the building machine's
// /proc/cpuinfo (what the compiler's own -march=native reads), for a few named CPUs from their definitions; any
// other target (or none) gets the portable Swift loop, which computes the same integers.
func integerDotProducts(_ cpu: String) -> [String] {
    let flags: Set<Substring>
    switch cpu {
    case "native":
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ") ?? [])
    case "haswell", "broadwell", "skylake", "znver1", "znver2", "znver3": flags = ["avx2"]
    case "cascadelake", "icelake-server", "sapphirerapids", "znver4", "znver5": flags = ["avx2", "avx512bw", "avx512_vnni"]
    default: flags = []
    }
    return (flags.contains("avx512_vnni") && flags.contains("avx512bw") ? ["REMAMBA_AVX512_VNNI"] : [])
        + (flags.contains("avx2") ? ["REMAMBA_AVX2"] : [])
}

// Swift 6 language mode (complete concurrency checking) per target; TensorCore is still in the Swift 5 mode (see
// swiftLanguageModes below).
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "ReMamba",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "remamba", targets: ["remamba"]),
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "Tokenization", targets: ["Tokenization"]),
        .library(name: "MambaLM", targets: ["MambaLM"]),
        .library(name: "MambaTraining", targets: ["MambaTraining"]),
        .library(name: "MambaEval", targets: ["MambaEval"]),
        .library(name: "Plots", targets: ["Plots"]),
        .library(name: "MambaServer", targets: ["MambaServer"]),
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
        .library(name: "OutputFiles", targets: ["OutputFiles"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CPrefetch"),
        .target(name: "TensorCore", dependencies: ["COpenBLAS", "CPrefetch"], swiftSettings: kernelSettings),
        .target(name: "Tokenization", swiftSettings: swift6),
        .target(name: "OutputFiles", swiftSettings: swift6),
        .target(name: "MambaLM", dependencies: ["TensorCore", "Tokenization", "OutputFiles"], swiftSettings: swift6),
        .target(name: "Plots", dependencies: ["OutputFiles"], swiftSettings: swift6),
        .target(name: "MambaTraining", dependencies: ["MambaLM", "TensorCore", "Tokenization", "Plots", "OutputFiles"], swiftSettings: swift6),
        .target(name: "MambaEval", dependencies: ["MambaLM", "Tokenization", "TensorCore", "Plots", "OutputFiles"],
                swiftSettings: swift6),
        .target(name: "MambaServer", dependencies: [
            "MambaLM", "TensorCore", "Tokenization", .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: swift6),
        .target(name: "FuzzTargets", dependencies: ["MambaLM", "MambaTraining", "MambaEval", "MambaServer", "Tokenization"],
                swiftSettings: swift6),
        .executableTarget(name: "remamba", dependencies: [
            "MambaLM", "MambaTraining", "MambaEval", "MambaServer", "Tokenization", "TensorCore", "Plots", "OutputFiles",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: swift6),
        // Helpers shared by the test targets (seeded inputs, fast-vs-slow comparisons, finite differences); no product.
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport", swiftSettings: swift6),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"], swiftSettings: swift6),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization"], swiftSettings: swift6),
        .testTarget(name: "MambaLMTests", dependencies: ["MambaLM"], swiftSettings: swift6),
        .testTarget(name: "MambaEvalTests", dependencies: ["MambaEval", "MambaLM", "Tokenization", "Plots"], swiftSettings: swift6),
        .testTarget(name: "PlotsTests", dependencies: ["Plots"], swiftSettings: swift6),
        .testTarget(name: "MambaServerTests", dependencies: [
            "MambaServer", "MambaLM", "Tokenization", .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets"], swiftSettings: swift6),
        .testTarget(name: "OutputFilesTests", dependencies: ["OutputFiles"], swiftSettings: swift6),
        .testTarget(name: "MambaTrainingTests", dependencies: ["MambaTraining", "MambaLM", "TensorCore", "Tokenization", "TestSupport"], swiftSettings: swift6),
    ],
    // The default for targets without `swift6` above. TensorCore's kernels capture raw pointers in the closures that
    // `Parallel.forEachRange` runs concurrently (disjoint ranges by construction); in the Swift 6 mode that body must
    // be @Sendable, which waits for the kernels' one sendable pointer type (issue 17, item 3).
    swiftLanguageModes: [.v5]
)

// The libFuzzer driver of the fuzz targets, only for `scripts/fuzz` (which sets REMAMBA_FUZZ and builds with
// -sanitize=fuzzer,address into .build-fuzz); the normal build and CI never see it (docs/FUZZING.md).
if ProcessInfo.processInfo.environment["REMAMBA_FUZZ"] != nil {
    package.targets += [
        .target(name: "CFuzzDriver", path: "fuzz/CFuzzDriver"),
        .executableTarget(name: "remamba-fuzz", dependencies: ["CFuzzDriver", "FuzzTargets"], path: "fuzz/remamba-fuzz"),
    ]
    package.products += [.executable(name: "remamba-fuzz", targets: ["remamba-fuzz"])]
}
