import ArgumentParser
import Foundation
import MambaLM
import TensorCore

/// `remamba quantize`: a model directory with its streamed matrices stored as q8 (Q8_0), bf16, f16 or
/// f32; every other tensor as it was stored. The layout is in docs/QUANTIZATION.md.
struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a copy of a model with its weight matrices stored as q8 (Q8_0), bf16, f16 or f32.")

    @Option(name: .long, help: "Model directory to read.") var model: String
    @Option(name: .long, help: "New model directory to write (must not exist).") var out: String
    @Option(name: .long, help: "q8 (int8 in blocks of 32 with Float16 scales), bf16, f16 or f32.") var format: String
    @Flag(name: .long, help: "Ignore unknown keys in config.json instead of refusing the file.") var lenientConfig = false

    /// Files besides config.json and the weights that a model directory may carry, copied unchanged.
    static let companions = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"]

    func validate() throws { _ = try parseWeightType(format, argument: "--format") }

    func run() throws {
        let type = try parseWeightType(format, argument: "--format")
        let output = URL(fileURLWithPath: out)
        guard !FileManager.default.fileExists(atPath: output.path) else { throw ValidationError("--out \(out) already exists: give a new directory") }
        do {
            let source = URL(fileURLWithPath: model)
            let directory = try openModelDirectory(model, lenient: lenientConfig, dtype: type)
            let weights = try ModelLoader.storedWeights(directory)
            let (converted, kept) = weights.converted(to: type, where: StreamedMatrices.contains)
            var files = [("config.json", try Self.configuration(of: source, for: type))]
            for name in Self.companions where FileManager.default.fileExists(atPath: source.appendingPathComponent(name).path) {
                files.append((name, try Data(contentsOf: source.appendingPathComponent(name))))
            }
            let tensors = converted.weights.sorted { $0.key < $1.key }.map { ($0.key, SafetensorsWriter.Value.weight($0.value)) }
            try ModelDirectoryWriter.write(files: files, tensors: tensors, to: output)
            let bytes = converted.weights.values.reduce(0) { $0 + $1.storedBytes }
            print(String(format: "wrote %@: %@ weights, %.1f MB", out, type.rawValue, Double(bytes) / 1e6))
            if !kept.isEmpty {
                print("kept as stored (rows not a multiple of \(WeightType.blockSize)): \(kept.count) matrices, e.g. \(kept[0])")
            }
        } catch let error as ValidationError { throw error } catch { throw CommandFailure(error) }
    }

    /// config.json with `quantization_config` for q8 (and without it otherwise); its other keys unchanged.
    static func configuration(of source: URL, for type: WeightType) throws -> Data {
        let url = source.appendingPathComponent("config.json")
        guard var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw ValidationError("\(url.path): the top level is not an object")
        }
        object["quantization_config"] = type == .q8_0 ? Q8Configuration.json : nil
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}
