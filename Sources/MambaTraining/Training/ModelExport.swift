import Foundation
import MambaLM
import OutputFiles

/// Writes a loadable model directory: model.safetensors with the tensors under their checkpoint names, and
/// the source directory's config.json (with `configurationChanges` applied), generation_config.json and
/// tokenizer files copied beside it.
public enum ModelExport {
    static let copiedFiles = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]

    public static func write(_ tensors: NamedTensors, source: URL, to directory: URL,
                             configurationChanges: [String: Any] = [:]) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        try SafetensorsWriter.write(tensors.keys.sorted().map { ($0, .float32(tensors[$0]!)) }, metadata: ["format": "pt"],
                                    to: directory.appendingPathComponent("model.safetensors"))
        for name in copiedFiles {
            let from = source.appendingPathComponent(name), to = directory.appendingPathComponent(name)
            guard fm.fileExists(atPath: from.path), from.standardizedFileURL != to.standardizedFileURL else { continue }
            var data = try Data(contentsOf: from)
            if name == "config.json" && !configurationChanges.isEmpty,
               var json = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
                json.merge(configurationChanges) { _, new in new }
                data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            }
            try OutputFile.write(data, to: to.path)
        }
    }
}
