import Foundation

/// A model directory: config.json, the safetensors weights (one file or sharded through
/// model.safetensors.index.json) and, if present, tokenizer.json.
public struct ModelDirectory: Sendable {
    public let url: URL
    public let configuration: ModelConfiguration
    /// Every tensor name in the checkpoint, with the file that holds it.
    public let tensorFiles: [String: SafetensorsFile]
    public var tokenizerURL: URL? {
        let u = url.appendingPathComponent("tokenizer.json")
        return FileManager.default.fileExists(atPath: u.path) ? u : nil
    }

    public init(_ url: URL, lenientConfiguration: Bool = false) throws(LoadingError) {
        self.url = url
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw .fileNotFound(path: url.path) }
        guard isDirectory.boolValue else { throw .notADirectory(path: url.path) }
        let configurationURL = url.appendingPathComponent("config.json")
        configuration = try ModelConfiguration.load(configurationURL, lenient: lenientConfiguration)
        tensorFiles = try Self.openWeights(url)
        // Before anything of the config's size is listed or allocated: its layers are the checkpoint's, its
        // weights fit in this machine's memory.
        let footprint = ModelFootprint(configuration.architecture)
        try footprint.verifyLayers(tensorFiles.keys, directory: url.path)
        try footprint.verifyFits(path: configurationURL.path)
    }

    static func openWeights(_ url: URL) throws(LoadingError) -> [String: SafetensorsFile] {
        let fm = FileManager.default
        let index = url.appendingPathComponent("model.safetensors.index.json")
        var shardNames: [String]
        var indexMap: [String: String]? = nil
        if fm.fileExists(atPath: index.path) {
            guard let data = fm.contents(atPath: index.path),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = json["weight_map"] as? [String: String]
            else { throw .malformedJSON(path: index.path, reason: "expected an object with a \"weight_map\" of tensor name → file") }
            indexMap = map
            shardNames = Array(Set(map.values)).sorted()
        } else if fm.fileExists(atPath: url.appendingPathComponent("model.safetensors").path) {
            shardNames = ["model.safetensors"]
        } else {
            let all = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
            shardNames = all.filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix("adapter_") }.sorted()
            if shardNames.isEmpty {
                if all.contains("pytorch_model.bin") || all.contains(where: { $0.hasPrefix("pytorch_model-") }) {
                    throw .pytorchCheckpointOnly(directory: url.path)
                }
                throw .noWeights(directory: url.path)
            }
        }
        var files: [String: SafetensorsFile] = [:]
        for name in shardNames {
            let file = try SafetensorsFile(path: url.appendingPathComponent(name).path)
            for tensor in file.entries.keys {
                if let indexMap, indexMap[tensor] != name {
                    throw .corruptSafetensors(path: file.path, reason: "tensor \"\(tensor)\" is not listed for this file in model.safetensors.index.json")
                }
                files[tensor] = file
            }
        }
        if let indexMap, let missing = indexMap.keys.sorted().first(where: { files[$0] == nil }) {
            throw .corruptSafetensors(path: index.path, reason: "lists \"\(missing)\" in \(indexMap[missing]!), which does not hold it")
        }
        return files
    }

    /// The storage dtypes found in the checkpoint (e.g. ["BF16"]).
    public var storageDTypes: [String] {
        Array(Set(tensorFiles.map { $0.value.entries[$0.key]!.dtype.rawValue })).sorted()
    }
}
