import Foundation
import MambaLM

/// The input as adapter_config.json beside the weights of the committed tiny LoRA adapter, merged into
/// its tiny base model when it loads.
enum AdapterFuzzing {
    static let fixture = FuzzScratch.fixtures.appendingPathComponent("adapters/tiny_a_lora")
    static let base = try? ModelDirectory(FuzzScratch.fixtures.appendingPathComponent("mamba1/tiny_a"))

    static func run(_ data: Data) {
        let folder = FuzzScratch.folder("adapter", files: [PEFTAdapter.configurationName: data],
                                        links: [PEFTAdapter.weightsName: fixture.appendingPathComponent(PEFTAdapter.weightsName)])
        do {
            let adapter = try PEFTAdapter(folder)
            _ = adapter.summary
            if let base { _ = try ModelLoader.load(base, adapter: adapter) }
        } catch {
            _ = "\(error)"
        }
    }
}
