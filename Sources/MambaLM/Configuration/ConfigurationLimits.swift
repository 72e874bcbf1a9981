extension ConfigurationError {
    /// Sizes above this are refused: it keeps every derived size (vocab × hidden_size, heads × head_dim, …)
    /// far from Int overflow, so an absurd config.json is refused instead of trapping later.
    static let sizeLimit = 1 << 24

    /// A size read from config.json: a positive integer of at most `sizeLimit`, else an error naming `key`.
    static func checkSize(_ value: Int, key: String) throws(ConfigurationError) {
        if value <= 0 || value > sizeLimit {
            throw .invalidValue(key: key, value: "\(value)", expected: "a positive integer of at most \(sizeLimit)")
        }
    }
}
