import Foundation

/// A sequence's state in a file, with the token ids it covers and the identity of the model (and ReMamba
/// settings) that computed it: a long document prefilled (and, for ReMamba, compressed) once, then questioned many
/// times (`remamba generate --save-state F` / `--load-state F`). A safetensors file: `ModelState.save`'s tensors,
/// with `ids` and `model` in the metadata.
public struct SavedSequence {
    public var ids: [Int]
    public var state: ModelState

    public init(ids: [Int], state: ModelState) { (self.ids, self.state) = (ids, state) }

    public func write(to url: URL, model identity: String) throws {
        try state.save(to: url, metadata: ["ids": ids.map(String.init).joined(separator: ","), "model": identity])
    }

    /// Reads a file written by `write`, refusing one made by another model or other settings (`identity`) or
    /// whose state does not fit `template` (a fresh state of the model).
    public static func read(from url: URL, model identity: String, like template: ModelState) throws -> SavedSequence {
        let metadata = try SafetensorsFile(path: url.path).metadata
        guard let saved = metadata["model"], let idsText = metadata["ids"] else {
            throw LoadingError.missingKey(path: url.path, key: "__metadata__.model / __metadata__.ids (not a file of --save-state)")
        }
        guard saved == identity else {
            throw LoadingError.invalidValue(path: url.path, key: "__metadata__.model", value: saved,
                                            expected: "the model and settings of this run: \(identity)")
        }
        let ids = try idsText.split(separator: ",").map { text throws -> Int in
            guard let id = Int(text) else {
                throw LoadingError.invalidValue(path: url.path, key: "__metadata__.ids", value: String(text), expected: "token ids")
            }
            return id
        }
        let state = try ModelState.load(from: url, like: template)
        return SavedSequence(ids: ids, state: state)
    }
}
