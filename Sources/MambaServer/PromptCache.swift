import Foundation
import MambaLM
import TensorCore

/// States of token prefixes the server has already computed — at prefill chunk boundaries, at the end of each
/// prompt and at the end of each completion — so that a prompt extending one (the same document asked again, or a
/// chat's next turn: previous prompt + answer + new message) prefills only the rest. A state is exact and small
/// (constant size, no KV cache), so reuse gives the same logits as a fresh prefill for Mamba and Mamba2.
/// Least recently used entries go first once the total exceeds `capacityBytes`. One cache serves one model with
/// one set of ReMamba settings, so the key is the token ids alone. Not thread-safe: the scheduler's thread owns it.
final class PromptCache {
    struct Entry {
        /// The ids the state covers.
        let ids: [Int]
        let state: ModelState
        /// [V]: the logits that predict the token after `ids`.
        let logits: Tensor
        var lastUse: UInt64
        var bytes: Int { 4 * (logits.count + state.layers.reduce(0) { $0 + $1.conv.count + $1.ssm.count }) + 8 * ids.count }
    }

    let capacityBytes: Int
    private var entries: [Entry] = []
    private var clock: UInt64 = 0
    private(set) var bytes = 0

    init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    var count: Int { entries.count }

    /// The entry with the longest `ids` that is a prefix of `prompt` (the whole prompt at most).
    func longestPrefix(of prompt: [Int]) -> Entry? {
        var best: Int?
        for (i, entry) in entries.enumerated() where entry.ids.count <= prompt.count && entry.ids.count > (best.map { entries[$0].ids.count } ?? 0) {
            if prompt.starts(with: entry.ids) { best = i }
        }
        guard let best else { return nil }
        clock += 1
        entries[best].lastUse = clock
        return entries[best]
    }

    /// Keeps the state of `ids` (replacing an entry of the same ids), then evicts the least recently used
    /// entries while over capacity.
    func store(ids: [Int], state: ModelState, logits: Tensor) {
        guard capacityBytes > 0, !ids.isEmpty else { return }
        clock += 1
        if let same = entries.firstIndex(where: { $0.ids == ids }) {
            bytes -= entries[same].bytes
            entries.remove(at: same)
        }
        let entry = Entry(ids: ids, state: state, logits: logits, lastUse: clock)
        guard entry.bytes <= capacityBytes else { return }
        entries.append(entry)
        bytes += entry.bytes
        while bytes > capacityBytes, let oldest = entries.indices.min(by: { entries[$0].lastUse < entries[$1].lastUse }) {
            bytes -= entries[oldest].bytes
            entries.remove(at: oldest)
        }
    }
}
