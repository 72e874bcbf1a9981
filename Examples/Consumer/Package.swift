// swift-tools-version:6.1
import PackageDescription
import Foundation

// Another package that depends on ReMamba by a tagged version, as a project outside this repository would.
// scripts/consumer clones the checkout into a temporary directory, tags it 0.1.0 there and passes its file://
// URL as REMAMBA_PACKAGE_URL (CI runs it); point it at any git URL that has the tag.
guard let remamba = ProcessInfo.processInfo.environment["REMAMBA_PACKAGE_URL"] else {
    fatalError("REMAMBA_PACKAGE_URL is not set: the git URL of a ReMamba repository tagged 0.1.0 (scripts/consumer sets it)")
}

let package = Package(
    name: "Consumer",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: remamba, exact: "0.1.0"),
    ],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [
            .product(name: "MambaLM", package: "remamba"),
            .product(name: "Tokenization", package: "remamba"),
            .product(name: "TensorCore", package: "remamba"),
        ], swiftSettings: [.swiftLanguageMode(.v6)]),
    ]
)
