import ArgumentParser
import Foundation
import MambaLM
import OutputFiles
import TensorCore

/// --model and what goes with it, shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model directory (config.json + *.safetensors [+ tokenizer.json]).")
    var model: String

    @Flag(name: .long, help: "Ignore unknown keys in config.json instead of refusing the file.")
    var lenientConfig = false

    @Option(name: .long, help: "Worker threads for BLAS and the kernels (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors), merged into --model as PEFT's merge_and_unload does.", valueName: "dir"))
    var adapter: String?

    @Option(name: .long, help: ArgumentHelp("Store the weight matrices as f32, bf16, f16 or q8 (converted at load; default: as stored in the checkpoint).", valueName: "type"))
    var dtype: String?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
        _ = try weightType
    }

    /// --dtype as a weight type (nil: as stored).
    var weightType: WeightType? {
        get throws { try dtype.map { try parseWeightType($0, argument: "--dtype") } }
    }

    func applyThreads() {
        if let threads { Parallel.threads = threads }
    }

    func openDirectory() throws -> ModelDirectory {
        applyThreads()
        return try openModelDirectory(model, lenient: lenientConfig, dtype: weightType)
    }

    /// The --adapter directory, opened and its adapter_config.json checked; nil without --adapter.
    func openAdapter() throws -> PEFTAdapter? {
        guard let adapter else { return nil }
        return try PEFTAdapter(URL(fileURLWithPath: adapter))
    }
}

/// A model directory, with what its config.json said that is ignored (`ModelConfiguration.warnings`) on stderr;
/// `dtype`: the --dtype its weights will be converted to (the memory check counts them so).
func openModelDirectory(_ path: String, lenient: Bool = false, dtype: WeightType? = nil) throws -> ModelDirectory {
    let directory = try ModelDirectory(URL(fileURLWithPath: path), lenientConfiguration: lenient, dtype: dtype)
    printWarnings(of: directory.configuration)
    return directory
}

/// What config.json said that is ignored, one line each on stderr.
func printWarnings(of configuration: ModelConfiguration) {
    for warning in configuration.warnings { printError("warning: \(warning)") }
}

/// f32, bf16, f16 or q8 (q8_0 too) as a weight type.
func parseWeightType(_ text: String, argument: String) throws -> WeightType {
    switch text.lowercased() {
    case "f32", "float32": return .f32
    case "f16", "float16": return .f16
    case "bf16", "bfloat16": return .bf16
    case "q8", "q8_0": return .q8_0
    default: throw ValidationError("\(argument) must be f32, bf16, f16 or q8, got \(text)")
    }
}

/// Comma-separated token ids, e.g. `1,2,3`.
func parseIDs(_ text: String, argument: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    return try parts.map { part in
        guard let id = Int(part) else { throw ValidationError("\(argument): \"\(part)\" is not an integer token id (expected e.g. 1,2,3)") }
        return id
    }
}

/// Errors go to stderr as one clear line, with a non-zero exit.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ error: Error) { description = "\(error)" }
}

/// Checks every output path of a command before its work, so a bad path fails at once (OutputFile).
func validateOutputs(_ paths: [String?]) throws {
    do { try OutputFile.validate(paths.compactMap { $0 }) } catch { throw CommandFailure(error) }
}

func printError(_ text: String) {
    FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
}
