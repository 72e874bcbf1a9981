/// Stop strings over streamed text: text is released only once it cannot be the start of a stop
/// string, so the output never contains (part of) the stop string that ended it.
public struct StopCondition: Sendable {
    let stopStrings: [String]
    var pending = ""
    public private(set) var matched: String?

    public init(stopStrings: [String]) { self.stopStrings = stopStrings }

    /// Adds newly decoded text; returns the text that is now safe to emit.
    public mutating func append(_ text: String) -> String {
        guard matched == nil else { return "" }
        pending += text
        if stopStrings.isEmpty { defer { pending = "" }; return pending }
        if let hit = stopStrings.compactMap({ s in pending.range(of: s).map { (s, $0) } }).min(by: { $0.1.lowerBound < $1.1.lowerBound }) {
            matched = hit.0
            defer { pending = "" }
            return String(pending[..<hit.1.lowerBound])
        }
        // Hold back the longest suffix of `pending` that is a prefix of some stop string.
        var keep = 0
        for s in stopStrings {
            for length in stride(from: min(s.count - 1, pending.count), to: 0, by: -1)
            where pending.hasSuffix(String(s.prefix(length))) {
                keep = max(keep, length)
                break
            }
        }
        let cut = pending.index(pending.endIndex, offsetBy: -keep)
        defer { pending = String(pending[cut...]) }
        return String(pending[..<cut])
    }

    /// The text held back, released at the end of generation when no stop string matched.
    public mutating func finish() -> String {
        defer { pending = "" }
        return matched == nil ? pending : ""
    }
}
