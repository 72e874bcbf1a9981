/// The Metaspace pre-tokenizer of SentencePiece-style tokenizer.json files (Llama-2, OpenLLaMA):
/// spaces become the replacement character "▁", one is prepended to a piece that does not start
/// with it (always, or only to the piece at the very start of the input: `first`), and with
/// `split` the piece is cut before every "▁" (the library's MergedWithNext).
struct MetaspaceJSON: Decodable, Sendable {
    enum PrependScheme: String, Decodable, Sendable { case always, first, never }

    var replacement: String
    var prependScheme: PrependScheme
    var split: Bool

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        replacement = try c.value("replacement", default: "▁")
        guard replacement.unicodeScalars.count == 1 else {
            throw TokenizerFileProblem.unsupported(component: "Metaspace", detail: "replacement \"\(replacement)\" (one character expected)")
        }
        if let scheme: String = try c.value("prepend_scheme", default: nil) {
            guard let parsed = PrependScheme(rawValue: scheme) else {
                throw TokenizerFileProblem.unsupported(component: "Metaspace", detail: "prepend_scheme \"\(scheme)\"")
            }
            prependScheme = parsed
        } else {
            // Files older than prepend_scheme say add_prefix_space.
            prependScheme = try c.value("add_prefix_space", default: true) ? .always : .never
        }
        split = try c.value("split", default: true)
    }
}

enum Metaspace {
    /// Calls `body` with the words of `piece`; `atStart` tells whether the piece begins the input.
    static func forEachWord(_ piece: UnsafeBufferPointer<UInt8>, _ settings: MetaspaceJSON, atStart: Bool,
                            _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let marker = Array(settings.replacement.utf8)
        var text: [UInt8] = []
        text.reserveCapacity(piece.count + marker.count * 4)
        for byte in piece { if byte == 0x20 { text += marker } else { text.append(byte) } }
        let prepend = switch settings.prependScheme {
        case .always: true
        case .first: atStart
        case .never: false
        }
        if prepend && !text.starts(with: marker) { text.insert(contentsOf: marker, at: 0) }
        text.withUnsafeBufferPointer { all in
            guard settings.split else { return body(all) }
            var begin = 0, i = marker.count > 0 ? 1 : all.count
            while i + marker.count <= all.count {
                if all[i..<(i + marker.count)].elementsEqual(marker) {
                    body(UnsafeBufferPointer(rebasing: all[begin..<i]))
                    begin = i
                    i += marker.count
                } else {
                    i += 1
                }
            }
            if begin < all.count { body(UnsafeBufferPointer(rebasing: all[begin...])) }
        }
    }
}
