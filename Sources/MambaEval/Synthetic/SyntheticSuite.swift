/// Generates the synthetic long-context suite deterministically from a seed: for each task, each target length
/// and each needle depth, `samplesPerCell` LongBench-format samples whose filled prompt is about `length` tokens.
public struct SyntheticSuite {
    public var tasks: [SyntheticTask] = SyntheticTask.allCases
    public var lengths: [Int] = [1024, 2048, 4096, 8192, 16384]
    public var depths: [Double] = [0, 0.25, 0.5, 0.75, 1]
    public var samplesPerCell = 1
    public var seed: UInt64 = 0
    public let haystack: Haystack
    /// Tokens of a text; without a tokenizer, an estimate of 4/3 tokens per word.
    public let countTokens: (String) -> Int

    public init(haystack: Haystack, countTokens: ((String) -> Int)? = nil) {
        self.haystack = haystack
        self.countTokens = countTokens ?? { text in (PythonText.split(text).count * 4 + 2) / 3 }
    }

    /// Every sample of one task, in (length, depth, index) order.
    public func samples(_ task: SyntheticTask) -> [LongBenchSample] {
        var out: [LongBenchSample] = []
        let taskDepths = task.hasDepth ? depths : [Double.nan]
        for length in lengths {
            for depth in taskDepths {
                for index in 0..<samplesPerCell {
                    // One generator per cell, so adding lengths or depths leaves the other cells unchanged.
                    var random = SeededRandom(seed: seed &+ UInt64(length) &* 1_000_003 &+ UInt64(index) &* 7919
                                              &+ UInt64((depth.isNaN ? 0 : depth) * 1000) &* 104_729 &+ UInt64(task.hashSeed))
                    let d = depth.isNaN ? nil : depth
                    let depthTag = d.map { String(format: "%.2f", $0) } ?? "na"
                    var sample = make(task, length: length, depth: d, random: &random)
                    sample.id = "\(task.rawValue)-\(length)-\(depthTag)-\(index)"
                    out.append(sample)
                }
            }
        }
        return out
    }

    func make(_ task: SyntheticTask, length: Int, depth: Double?, random: inout SeededRandom) -> LongBenchSample {
        let start = random.below(haystack.sentences.count)
        // Each builder takes a size (filler sentences, pairs or paragraphs) and returns (context, input, answer).
        let build: (Int) -> (String, String, String)
        var unit = 1
        switch task {
        case .passkey:
            let key = random.number(digits: 5)
            build = { n in
                let needle = "The pass key is \(key). Remember it. \(key) is the pass key."
                return (self.insert([needle], depths: [depth ?? 0], into: self.haystack.run(from: start, count: n)), "What is the pass key?", key)
            }
        case .multikeyNeedle:
            let keys = (0..<4).map { _ in "\(random.pick(Self.adjectives))-\(random.pick(Self.nouns))" }
            let values = (0..<4).map { _ in random.number(digits: 7) }
            let others = (1..<4).map { _ in Double(random.below(101)) / 100 }
            build = { n in
                let needles = zip(keys, values).map { "One of the special magic numbers for \($0) is: \($1)." }
                let context = self.insert(needles, depths: [depth ?? 0] + others, into: self.haystack.run(from: start, count: n))
                return (context, "What is the special magic number for \(keys[0]) mentioned in the provided text?", values[0])
            }
        case .keyValueRetrieval:
            let pool = (0..<4096).map { _ in (random.uuid(), random.uuid()) }
            unit = 8
            build = { n in
                let pairs = Array(pool.prefix(max(n, 1)))
                let target = Int(((depth ?? 0) * Double(pairs.count - 1)).rounded())
                let body = pairs.map { "\"\($0.0)\": \"\($0.1)\"" }.joined(separator: ", ")
                return ("JSON data:\n{" + body + "}", "Key: \"\(pairs[target].0)\"\nCorresponding value:", pairs[target].1)
            }
        case .passageRetrieval:
            let starts = (0..<400).map { _ in random.below(self.haystack.sentences.count) }
            unit = 2
            build = { n in
                let count = max(n, 2)
                let paragraphs = (0..<count).map { self.haystack.run(from: starts[$0 % starts.count] + $0 / starts.count, count: 5) }
                let target = Int(((depth ?? 0) * Double(count - 1)).rounded())
                let context = paragraphs.enumerated().map { "Paragraph \($0 + 1): " + $1.joined(separator: " ") }.joined(separator: "\n\n")
                return (context, paragraphs[target][1] + " " + paragraphs[target][3], "Paragraph \(target + 1)")
            }
        case .passageCount:
            let starts = (0..<400).map { _ in random.below(self.haystack.sentences.count) }
            let order = (0..<400).map { _ in random.next() }
            unit = 2
            build = { n in
                let total = max(n, 2)
                let unique = max(1, total * 2 / 3)
                // Each unique paragraph at least once, the rest repeats; shuffled by the precomputed keys.
                let picks = (0..<total).map { $0 < unique ? $0 : (Int(order[$0 % order.count] % UInt64(unique))) }
                let shuffled = picks.enumerated().sorted { order[$0.offset % order.count] < order[$1.offset % order.count] }.map(\.element)
                let context = shuffled.enumerated().map { i, p in
                    "Paragraph \(i + 1): " + self.haystack.run(from: starts[p % starts.count] + p / starts.count, count: 4).joined(separator: " ")
                }.joined(separator: "\n\n")
                return (context, "", String(unique))
            }
        case .variableTracking:
            let value = random.number(digits: 5)
            let decoy = random.number(digits: 5)
            let names = (0..<8).map { _ in String((0..<5).map { _ in Character(Unicode.Scalar(UInt8(65 + random.below(26)))) }) }
            build = { n in
                let chain = ["VAR \(names[0]) = \(value)."] + (1..<4).map { "VAR \(names[$0]) = VAR \(names[$0 - 1])." }
                let decoys = ["VAR \(names[4]) = \(decoy)."] + (5..<8).map { "VAR \(names[$0]) = VAR \(names[$0 - 1])." }
                let first = depth ?? 0
                let chainDepths = (0..<4).map { first + (1 - first) * Double($0) / 4 }
                let decoyDepths = (0..<4).map { Double($0 + 1) / 5 }
                let context = self.insert(chain + decoys, depths: chainDepths + decoyDepths, into: self.haystack.run(from: start, count: n))
                return (context, "Find all variables that are assigned the value \(value) in the text above.", names[0..<4].joined(separator: ", "))
            }
        }
        let (context, input, answer, tokens) = fit(length: length, task: task, unit: unit, build: build)
        return LongBenchSample(input: input, context: context, answers: [answer], length: tokens, dataset: task.rawValue,
                               id: "", depth: depth)
    }

    /// The largest size whose filled prompt stays within `length` tokens (at least one unit).
    func fit(length: Int, task: SyntheticTask, unit: Int, build: (Int) -> (String, String, String)) -> (String, String, String, Int) {
        func tokens(_ n: Int) -> (String, String, String, Int) {
            let (c, i, a) = build(n)
            return (c, i, a, countTokens(LongBenchPrompts.fill(task.template, context: c, input: i)))
        }
        // Grow geometrically, then bisect: about 2·log2(length) prompt encodings.
        var low = 1, high = max(unit, 8)
        var best = tokens(low)
        if best.3 > length { return best }
        while true {
            let t = tokens(high)
            if t.3 > length { break }
            best = t; low = high; high *= 2
        }
        while high - low > 1 {
            let mid = (low + high) / 2
            let t = tokens(mid)
            if t.3 <= length { best = t; low = mid } else { high = mid }
        }
        return best
    }

    /// Inserts each needle between sentences at its relative depth (0: before the first, 1: after the last).
    func insert(_ needles: [String], depths: [Double], into sentences: [String]) -> String {
        var slots = Array(repeating: [String](), count: sentences.count + 1)
        for (needle, depth) in zip(needles, depths) {
            let position = Int((min(max(depth, 0), 1) * Double(sentences.count)).rounded())
            slots[position].append(needle)
        }
        var pieces: [String] = []
        for i in 0...sentences.count {
            pieces += slots[i]
            if i < sentences.count { pieces.append(sentences[i]) }
        }
        return pieces.joined(separator: " ")
    }

    static let adjectives = ["amber", "brave", "calm", "daring", "eager", "fuzzy", "gentle", "hollow", "icy", "jolly",
                             "keen", "lucky", "mellow", "nimble", "odd", "proud", "quiet", "rapid", "silver", "tidy"]
    static let nouns = ["otter", "lantern", "meadow", "falcon", "harbor", "pebble", "comet", "willow", "anchor", "badger",
                        "cactus", "dolphin", "ember", "fjord", "glacier", "heron", "island", "jasmine", "kettle", "lagoon"]
}

extension SyntheticTask {
    /// A stable per-task offset of the seed (String.hashValue is randomized per process, so not that).
    var hashSeed: UInt64 { rawValue.unicodeScalars.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1.value)) &* 1099511628211 } }
}
