import Foundation
import MambaLM

/// What a saved state belongs to: the model directory's config.json and weight files (sizes and the bytes at
/// both ends, hashed with FNV-1a 64), the adapter's, and the ReMamba settings. A state file of another model,
/// checkpoint or setting is refused with this text in the error.
enum ModelIdentity {
    static func of(_ directory: ModelDirectory, adapter: String?, remamba settings: CompressionSettings?) throws -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) { for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 } }
        for folder in [directory.url] + (adapter.map { [URL(fileURLWithPath: $0)] } ?? []) {
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                .filter { $0.hasSuffix(".json") || $0.hasSuffix(".safetensors") }.sorted()
            for name in names {
                let handle = try FileHandle(forReadingFrom: folder.appendingPathComponent(name))
                defer { try? handle.close() }
                let size = try handle.seekToEnd()
                mix(Array(name.utf8) + Array("\(size)".utf8))
                try handle.seek(toOffset: 0)
                mix(try handle.read(upToCount: 1 << 16) ?? Data())
                try handle.seek(toOffset: size > 1 << 16 ? size - (1 << 16) : 0)
                mix(try handle.read(upToCount: 1 << 16) ?? Data())
            }
        }
        return "\(directory.url.lastPathComponent) #\(String(hash, radix: 16))" + (settings.map { ", ReMamba \($0)" } ?? ", plain")
    }
}
