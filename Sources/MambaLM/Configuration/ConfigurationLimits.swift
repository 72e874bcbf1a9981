/// The bounds every integer of config.json is checked against before any arithmetic uses it. Real checkpoints
/// are far inside them (the largest released Mamba: d_model 2560, 64 layers, vocabulary 50 280; the largest
/// vocabularies of any model ~260 k); products of a few such sizes stay far from Int overflow, and whatever
/// a configuration would allocate is computed (overflow-checked) by `ModelFootprint` and compared with the
/// machine's memory before anything is allocated.
public enum ConfigurationLimits {
    /// Every size and count: vocab_size, hidden_size / d_model, state_size, layers, expand, conv_kernel,
    /// time_step_rank, num_heads, head_dim, n_groups, pad_vocab_size_multiple: 1 … 2^24.
    public static let maxSize = 1 << 24
    /// Mamba2's chunk_size Q: 1 … 4096 (the chunked scan holds [Q, Q] scores per chunk and group; released
    /// checkpoints use 256).
    public static let maxChunkSize = 4096

    /// `value` if it is in 1 … `limit`, else the error naming `key`.
    static func check(_ value: Int, key: String, limit: Int = maxSize) throws(ConfigurationError) -> Int {
        guard value > 0 && value <= limit else {
            throw .invalidValue(key: key, value: "\(value)", expected: "a positive integer of at most \(limit)")
        }
        return value
    }
}
