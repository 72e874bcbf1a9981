// swift-tools-version:6.1
import PackageDescription
import Foundation

// Hot kernels (scan, conv, elementwise) are plain Swift SIMD code; swiftc emits baseline SSE unless told
// the CPU. Like llama.cpp's GGML_NATIVE, we build for the machine we run on; REMAMBA_TARGET_CPU overrides
// it (e.g. `x86-64-v3` for a portable AVX2 binary). `remamba bench` prints the choice.
let targetCPU = ProcessInfo.processInfo.environment["REMAMBA_TARGET_CPU"] ?? "native"
let kernelSettings: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", targetCPU]),
    .define("REMAMBA_TARGET_CPU_\(targetCPU.replacingOccurrences(of: "-", with: "_"))"),
]

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
        .target(name: "TensorCore", dependencies: ["COpenBLAS"], swiftSettings: kernelSettings),
        .target(name: "Tokenization", swiftSettings: kernelSettings),
        .target(name: "OutputFiles"),
        .target(name: "MambaLM", dependencies: ["TensorCore", "Tokenization", "OutputFiles"], swiftSettings: kernelSettings),
        .target(name: "Plots", dependencies: ["OutputFiles"]),
        .target(name: "MambaTraining", dependencies: ["MambaLM", "TensorCore", "Tokenization", "Plots", "OutputFiles"],
                swiftSettings: kernelSettings),
        .target(name: "MambaEval", dependencies: ["MambaLM", "Tokenization", "TensorCore", "Plots", "OutputFiles"],
                swiftSettings: kernelSettings),
        .target(name: "MambaServer", dependencies: [
            "MambaLM", "TensorCore", "Tokenization", .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "FuzzTargets", dependencies: ["MambaLM", "MambaTraining", "MambaEval", "MambaServer", "Tokenization"]),
        .executableTarget(name: "remamba", dependencies: [
            "MambaLM", "MambaTraining", "MambaEval", "MambaServer", "Tokenization", "TensorCore", "Plots", "OutputFiles",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: kernelSettings),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"], swiftSettings: kernelSettings),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization"], swiftSettings: kernelSettings),
        .testTarget(name: "MambaLMTests", dependencies: ["MambaLM"], swiftSettings: kernelSettings),
        .testTarget(name: "MambaEvalTests", dependencies: ["MambaEval", "MambaLM", "Tokenization", "Plots"], swiftSettings: kernelSettings),
        .testTarget(name: "MambaServerTests", dependencies: [
            "MambaServer", "MambaLM", "Tokenization", .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets"]),
        .testTarget(name: "OutputFilesTests", dependencies: ["OutputFiles"]),
        .testTarget(name: "MambaTrainingTests", dependencies: ["MambaTraining", "MambaLM", "TensorCore", "Tokenization"],
                    swiftSettings: kernelSettings),
    ],
    // Strict concurrency checking would flag every kernel closure that captures raw pointers; the
    // kernels split disjoint ranges by construction, so the package builds in the Swift 5 language mode.
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
