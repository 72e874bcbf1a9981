import Foundation
import MambaLM

/// The input as model.safetensors beside the tiny config.json of fuzz/resources: the header and every
/// tensor read alone, then the whole directory loaded strictly (names and shapes against the config).
enum SafetensorsFuzzing {
    static func run(_ data: Data) {
        let folder = FuzzScratch.folder("safetensors", files: ["model.safetensors": data],
                                        links: ["config.json": FuzzScratch.tinyConfiguration])
        do {
            let file = try SafetensorsFile(path: folder.appendingPathComponent("model.safetensors").path)
            for (name, entry) in file.entries {
                switch entry.dtype {
                case .i64, .i32: _ = try file.integers(name)
                default: _ = try file.tensor(name)
                }
            }
            let directory = try ModelDirectory(folder)
            _ = ModelSummary(directory).text
            _ = try ModelLoader.load(directory)
        } catch {
            _ = "\(error)"
        }
    }
}
