import TensorCore

/// Bytes of the weights a model holds, found by walking its stored properties (`Weight`s as stored,
/// Float32 `Tensor`s, through arrays and nested structs), so that no model has to list them again.
enum StoredBytes {
    static func of(_ value: Any) -> Int {
        switch value {
        case let w as Weight: return w.storedBytes
        case let t as Tensor: return 4 * t.count
        default: return Mirror(reflecting: value).children.reduce(0) { $0 + of($1.value) }
        }
    }
}

extension Backbone {
    /// Bytes read from memory to decode one token: every weight once (the lm_head included), of the
    /// embedding table only one row (when tied, the table is read whole as the lm_head).
    public var bytesPerToken: Int {
        StoredBytes.of(self) - StoredBytes.of(embeddingTable) + (tiedEmbeddings ? 0 : embeddingTable.storedBytes / vocabularySize)
    }

    /// Bytes of every weight as held in memory (tied embeddings once).
    public var weightBytes: Int { StoredBytes.of(self) - (tiedEmbeddings ? embeddingTable.storedBytes : 0) }
}
