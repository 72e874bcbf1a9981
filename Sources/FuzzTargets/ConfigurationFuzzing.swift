import Foundation
import MambaLM

/// The input as config.json, strict and lenient, beside the tiny weights of fuzz/resources: what `info`
/// prints, then loading, which must refuse a config that does not match the weights before building
/// anything of the config's size.
enum ConfigurationFuzzing {
    static let weights = FuzzScratch.repository.appendingPathComponent("fuzz/resources/tiny-model.safetensors")

    static func run(_ data: Data) {
        let folder = FuzzScratch.folder("config", files: ["config.json": data], links: ["model.safetensors": weights])
        for lenient in [false, true] {
            do {
                let directory = try ModelDirectory(folder, lenientConfiguration: lenient)
                _ = ModelSummary(directory).text
                _ = try ModelLoader.load(directory)
            } catch {
                _ = "\(error)"
            }
        }
    }
}
