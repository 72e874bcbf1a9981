import Synchronization

/// The choices of a stream that have had their first chunk (where a chat choice names its role and an echoed
/// completion carries its prompt).
final class FirstChunks: Sendable {
    private let seen = Mutex<Set<Int>>([])
    /// Whether this is choice `index`'s first chunk; from then on it is not.
    func first(_ index: Int) -> Bool { seen.withLock { $0.insert(index).inserted } }
}

/// Per choice of a completion stream: where its next token's text starts (`logprobs.text_offset`).
final class TextOffsets: Sendable {
    private let offsets = Mutex<[Int: Int]>([:])
    subscript(index: Int) -> Int {
        get { offsets.withLock { $0[index] ?? 0 } }
        set { offsets.withLock { $0[index] = newValue } }
    }
}
