/// The hyperparameters of ReMamba and the paper's ablation variants.
/// s (`start`), p (`length`) and ρ (`ratio`) as the official config names them: `stratio`,
/// `compressp_ratio`, `ratio`.
public struct CompressionSettings: Sendable, Equatable {
    /// How the K kept positions are chosen (paper, Ablation Study).
    public enum Selection: Sendable, Equatable {
        /// Top-K by importance (Eq. 4): ReMamba.
        case topK
        /// K positions drawn uniformly without replacement, seeded.
        case random(seed: UInt64)
        /// K evenly spaced positions.
        case fixed
    }

    /// How the kept states enter stage 2.
    public enum Adaptation: String, Sendable, Equatable, CaseIterable {
        /// Δ adaptation at the inserted positions (Eq. 8): ReMamba.
        case selective
        /// Value(h) multiplied by its importance score, no change to Δ (Raposo et al. 2024).
        case multiplicative
        /// Value(h) inserted as is.
        case none
    }

    /// Where the compressed states go.
    public enum Placement: Sendable, Equatable {
        /// In place of the compressed range (Eqs. 6–7): ReMamba.
        case replace
        /// The "special" variant: the whole prompt is scored (s = 0, p = 1) and the compressed states are
        /// appended after the full, uncompressed prompt.
        case append
    }

    public var start: Double
    public var length: Double
    public var ratio: Double
    public var selection: Selection = .topK
    public var adaptation: Adaptation = .selective
    public var placement: Placement = .replace

    /// The paper's LongBench setting for Mamba (s = 0, p = 0.18, ρ = 0.009).
    public static let paperDefault = CompressionSettings(start: 0, length: 0.18, ratio: 0.009)

    public init(start: Double, length: Double, ratio: Double, selection: Selection = .topK,
                adaptation: Adaptation = .selective, placement: Placement = .replace) {
        self.start = start
        self.length = length
        self.ratio = ratio
        self.selection = selection
        self.adaptation = adaptation
        self.placement = placement
    }

    public func validate() throws(CompressionError) {
        if !(start >= 0 && start < 1) { throw .outOfRange(name: "start ratio s (--compress-start)", value: start, range: "0 ≤ s < 1") }
        if !(length >= 0 && length <= 1) { throw .outOfRange(name: "compressed length ratio p (--compress-length)", value: length, range: "0 ≤ p ≤ 1") }
        if !(ratio > 0 && ratio <= 1) { throw .outOfRange(name: "compression ratio ρ (--compress-ratio)", value: ratio, range: "0 < ρ ≤ 1") }
    }
}

public enum CompressionError: Error, CustomStringConvertible, Equatable {
    case outOfRange(name: String, value: Double, range: String)
    case notEnoughRows(keep: Int, rows: Int, promptLength: Int, start: Int)
    case notAReMambaCheckpoint(directory: String)

    public var description: String {
        switch self {
        case let .outOfRange(name, value, range): return "\(name) is \(value), must satisfy \(range)"
        case let .notEnoughRows(keep, rows, length, start):
            return "cannot keep K = \(keep) states: the range [\(start), \(length)) of this \(length)-token prompt has only \(rows) "
                + "(the official code fails here with \"selected index k out of range\"); lower --compress-start or --compress-ratio"
        case let .notAReMambaCheckpoint(dir):
            return "\(dir): --remamba needs a ReMamba checkpoint (backbone.{Q,K,V}_proj.* and layers.N.mixer.ret_bias.param), and this one has none"
        }
    }
}

/// Which positions of an L-token prompt are compressed, computed exactly as the official code does:
/// in Double, `to_len = max(ceil(L·p), 1)`, `K = ceil(to_len·ρ)`, `st = int(s·L)`, `end = st + to_len`.
/// IEEE rounding decides (ceil(100·0.14) = 15), so the same positions are chosen as in the paper's runs.
public struct CompressionPlan: Sendable, Equatable {
    public let promptLength: Int
    /// First compressed position (st).
    public let start: Int
    /// to_len: the nominal length of the range (may run past the prompt).
    public let length: Int
    /// K: how many states are kept.
    public let keep: Int

    /// end = st + to_len; positions from here on are kept as tokens.
    public var end: Int { start + length }
    /// The rows actually scored: [st, min(end, L)).
    public var range: Range<Int> { start..<min(end, promptLength) }
    /// L2 = st + K + max(0, L − end), the stage-2 length.
    public var stage2Length: Int { start + keep + max(0, promptLength - end) }

    public init(promptLength l: Int, settings: CompressionSettings) throws(CompressionError) {
        try settings.validate()
        promptLength = l
        let (s, p) = settings.placement == .append ? (0.0, 1.0) : (settings.start, settings.length)
        length = max(Int((Double(l) * p).rounded(.up)), 1)
        keep = Int((Double(length) * settings.ratio).rounded(.up))
        start = Int((s * Double(l)).rounded(.towardZero))
        if keep > range.count {
            throw .notEnoughRows(keep: keep, rows: max(range.count, 0), promptLength: l, start: start)
        }
    }

    /// A plan given by its integers (st, to_len, K), as a training recipe draws them (`ReMambaRecipe`).
    public init(promptLength l: Int, start: Int, length: Int, keep: Int) throws(CompressionError) {
        precondition(l >= 1 && start >= 0 && length >= 1 && keep >= 1, "CompressionPlan: L \(l), st \(start), to_len \(length), K \(keep)")
        (promptLength, self.start, self.length, self.keep) = (l, start, length, keep)
        if keep > range.count {
            throw .notEnoughRows(keep: keep, rows: max(range.count, 0), promptLength: l, start: start)
        }
    }
}
