import Foundation
import TensorCore

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

    /// `dtype`: the type the streamed matrices will be converted to at load (--dtype), nil to keep them as
    /// stored; the memory check counts them so.
    public init(_ url: URL, lenientConfiguration: Bool = false, dtype: WeightType? = nil) throws(LoadingError) {
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
        let stored = storedMatrixTypes
        try footprint.verifyFits(path: configurationURL.path, matrices: dtype ?? stored.main, kept: stored.kept)
    }

    /// The types of the checkpoint's streamed matrices (`StreamedMatrices`), from the headers: `main`, the type
    /// holding most of their elements, and `kept`, the widest type among the others (Q8_0 checkpoints keep
    /// matrices whose rows are not blocks of 32 as they were: Mamba's dt_proj). Exact when a checkpoint stores
    /// them in at most these two ways, as checkpoints and `remamba quantize` do.
    public var storedMatrixTypes: (main: WeightType, kept: WeightType) {
        var elements: [WeightType: Int] = [:]
        for (name, file) in tensorFiles {
            guard let entry = file.entries[name] else { continue }
            let type: WeightType
            if name.hasSuffix(Q8Names.valuesSuffix) { type = .q8_0 }
            else if StreamedMatrices.contains(name) { type = entry.dtype.weightType ?? .f32 }
            else { continue }
            elements[type, default: 0] += entry.shape.reduce(1, *)   // sizes checked against the file when it was opened
        }
        let main = elements.max { $0.value < $1.value }?.key ?? .f32
        let kept = elements.keys.filter { $0 != main }.max { $0.valueSize < $1.valueSize } ?? main
        return (main, kept)
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
