import Foundation
import MambaLM
import OutputFiles

/// Writes a new model directory whole or not at all: everything goes to a temporary directory beside
/// the target, renamed into place when complete (removed on failure).
enum ModelDirectoryWriter {
    static func write(files: [(name: String, data: Data)], tensors: [(String, SafetensorsWriter.Value)], to output: URL) throws {
        let staging = output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).partial-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            for file in files { try OutputFile.write(file.data, to: staging.appendingPathComponent(file.name).path) }
            try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: staging.appendingPathComponent("model.safetensors"))
            try FileManager.default.moveItem(at: staging, to: output)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }
}
