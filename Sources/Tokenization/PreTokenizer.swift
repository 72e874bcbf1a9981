/// Pre-tokenization: cuts a normalized piece of text into the words that BPE sees separately.
/// A tokenizer.json pre-tokenizer becomes a list of steps; each step splits every piece the step
/// before produced, as the library's `PreTokenizedString.split` does (empty pieces vanish).
struct PreTokenizer: Sendable {
    enum Step: Sendable {
        /// ByteLevel's add_prefix_space: a piece that does not start with " " gets one.
        case prefixSpace
        /// A Split with a pattern and what happens to its matches.
        case split(Splitter, SplitBehavior, invert: Bool)
        /// SentencePiece's spaces as "▁" (Llama-2, OpenLLaMA).
        case metaspace(MetaspaceJSON)
    }

    let steps: [Step]
    /// True when a ByteLevel pre-tokenizer is present: words reach BPE as bytes, not characters.
    let isByteLevel: Bool

    init(_ json: PreTokenizerJSON?) throws {
        var steps: [Step] = []
        var byteLevel = false
        func add(_ json: PreTokenizerJSON) throws {
            if byteLevel {
                // After ByteLevel the text would be in the byte alphabet; nothing we read does that.
                throw TokenizerFileProblem.unsupported(component: "pre_tokenizer", detail: "a step after ByteLevel in a Sequence")
            }
            switch json {
            case .byteLevel(let addPrefixSpace, let useRegex):
                if addPrefixSpace { steps.append(.prefixSpace) }
                if useRegex { steps.append(.split(.gpt2, .isolated, invert: false)) }
                byteLevel = true
            case .split(let pattern, let behavior, let invert):
                steps.append(.split(try Splitter(pattern), behavior, invert: invert))
            case .sequence(let inner):
                for step in inner { try add(step) }
            case .metaspace(let settings):
                steps.append(.metaspace(settings))
            }
        }
        if let json { try add(json) }
        self.steps = steps
        self.isByteLevel = byteLevel
    }

    /// Calls `body` with every word of `piece`, in order. `atStart`: the piece begins the input
    /// (Metaspace's `first` prepend scheme reads it).
    func forEachWord(in piece: UnsafeBufferPointer<UInt8>, atStart: Bool = true, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        run(piece, from: 0, atStart: atStart, body)
    }

    private func run(_ piece: UnsafeBufferPointer<UInt8>, from stepIndex: Int, atStart: Bool,
                     _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard !piece.isEmpty else { return }
        guard stepIndex < steps.count else { return body(piece) }
        switch steps[stepIndex] {
        case .prefixSpace:
            if piece[0] == 0x20 { return run(piece, from: stepIndex + 1, atStart: atStart, body) }
            var spaced = [UInt8](repeating: 0x20, count: piece.count + 1)
            spaced.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: 1).update(from: piece.baseAddress!, count: piece.count) }
            spaced.withUnsafeBufferPointer { run($0, from: stepIndex + 1, atStart: atStart, body) }
        case .split(.gpt2, .isolated, invert: false):
            // The hot path of every GPT-2-style tokenizer: no intermediate list of ranges.
            GPT2Splitter.split(piece) {
                run(UnsafeBufferPointer(rebasing: piece[$0]), from: stepIndex + 1, atStart: atStart && $0.lowerBound == 0, body)
            }
        case .split(let splitter, let behavior, let invert):
            let matches = splitter.matches(in: piece).map { (range: $0.range, isMatch: $0.isMatch != invert) }
            for range in Self.pieces(matches, behavior) where !range.isEmpty {
                run(UnsafeBufferPointer(rebasing: piece[range]), from: stepIndex + 1, atStart: atStart && range.lowerBound == 0, body)
            }
        case .metaspace(let settings):
            Metaspace.forEachWord(piece, settings, atStart: atStart) { run($0, from: stepIndex + 1, atStart: false, body) }
        }
    }

    /// The library's SplitDelimiterBehavior applied to a tiling of the text into matches and gaps.
    static func pieces(_ tiling: [(range: Range<Int>, isMatch: Bool)], _ behavior: SplitBehavior) -> [Range<Int>] {
        var result: [Range<Int>] = []
        switch behavior {
        case .isolated:
            result = tiling.map(\.range)
        case .removed:
            result = tiling.filter { !$0.isMatch }.map(\.range)
        case .contiguous:
            var previousMatch = false
            for (index, part) in tiling.enumerated() {
                if index > 0 && part.isMatch == previousMatch {
                    result[result.count - 1] = result[result.count - 1].lowerBound..<part.range.upperBound
                } else {
                    result.append(part.range)
                }
                previousMatch = part.isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for part in tiling {
                if part.isMatch && !previousMatch && !result.isEmpty {
                    result[result.count - 1] = result[result.count - 1].lowerBound..<part.range.upperBound
                } else {
                    result.append(part.range)
                }
                previousMatch = part.isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for part in tiling.reversed() {
                if part.isMatch && !previousMatch && !result.isEmpty {
                    result[result.count - 1] = part.range.lowerBound..<result[result.count - 1].upperBound
                } else {
                    result.append(part.range)
                }
                previousMatch = part.isMatch
            }
            result.reverse()
        }
        return result
    }
}
