import Foundation
import MambaLM
import TensorCore

/// The input as config.json, strict and lenient, beside tiny weights of its family (a config that names
/// "llama" beside the Llama fixture llama_a, any other beside the Mamba model of fuzz/resources): what `info`
/// prints, then loading, as stored and converted to Q8_0 (the memory check counts the conversion), which
/// must refuse a config that does not match the weights before building anything of the config's size.
enum ConfigurationFuzzing {
    static let mambaWeights = FuzzScratch.repository.appendingPathComponent("fuzz/resources/tiny-model.safetensors")
    static let llamaWeights = FuzzScratch.fixtures.appendingPathComponent("llama/llama_a/model.safetensors")

    static func run(_ data: Data) {
        let isLlama = String(decoding: data, as: UTF8.self).contains("llama")
        let folder = FuzzScratch.folder(isLlama ? "config-llama" : "config", files: ["config.json": data],
                                        links: ["model.safetensors": isLlama ? llamaWeights : mambaWeights])
        for (lenient, dtype) in [(false, nil), (true, WeightType.q8_0)] {
            do {
                let directory = try ModelDirectory(folder, lenientConfiguration: lenient, dtype: dtype)
                _ = ModelSummary(directory).text
                _ = try ModelLoader.load(directory, dtype: dtype)
            } catch {
                _ = "\(error)"
            }
        }
    }
}
