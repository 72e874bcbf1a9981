/// Trains a byte-level BPE tokenizer (GPT-NeoX style) on text, with the semantics of Hugging Face
/// `tokenizers`' `BpeTrainer` given `initial_alphabet = ByteLevel.alphabet()`:
///
///  1. vocabulary: the special tokens (ids 0…, in the order given), then the 256 byte-level
///     characters sorted by scalar value;
///  2. words: the corpus normalized (NFC) and pre-tokenized (GPT-2 split), counted (`WordCounter`),
///     each word a sequence of byte symbols;
///  3. merges: repeatedly fuse the most frequent adjacent pair (counted over all words, weighted by
///     word count; ties go to the smallest pair of ids) into a new token, until the vocabulary has
///     `vocabularySize` entries or no pair occurs `minFrequency` times.
///
/// Step 3 never recounts: each pair knows the words it occurs in, a merge rewrites only those words
/// and adjusts the counts of the pairs around each fused occurrence, and a max-heap holds candidates
/// whose counts are refreshed lazily when they reach the top (as the library does).
/// `ReferenceBPETrainer` in the tests is the slow twin that recounts everything at each merge.
public struct BPETrainer: Sendable {
    /// Stop once the vocabulary (special tokens + 256 byte symbols + merged tokens) is this big.
    public var vocabularySize: Int
    /// A pair that occurs fewer times than this is never merged (0 and 1 both mean "any pair").
    public var minFrequency: Int
    /// Added tokens such as "<|endoftext|>": ids 0… in this order, never split, never merged into.
    public var specialTokens: [String]

    public init(vocabularySize: Int, minFrequency: Int = 0, specialTokens: [String] = []) {
        self.vocabularySize = vocabularySize
        self.minFrequency = minFrequency
        self.specialTokens = specialTokens
    }

    /// What training has done so far: reported after counting, every few hundred merges, and at the end.
    public struct Progress: Sendable {
        public var merges: Int
        public var vocabularySize: Int
        public var targetVocabularySize: Int
    }

    /// Counts the words of `texts` (each one sequence) and trains on them.
    public func train(texts: some Sequence<String>, progress: ((Progress) -> Void)? = nil) -> TrainedTokenizer {
        var counter = WordCounter()
        for text in texts { counter.add(text) }
        return train(words: counter, progress: progress)
    }

    /// Trains on words already counted (e.g. file by file, see `WordCounter.addLines`).
    public func train(words counter: WordCounter, progress: ((Progress) -> Void)? = nil) -> TrainedTokenizer {
        var vocabulary = Vocabulary()
        for token in specialTokens { _ = vocabulary.id(of: Array(token.utf8)) }
        let sortedAlphabet = ByteLevelAlphabet.scalarForByte.sorted { $0.value < $1.value }
        for scalar in sortedAlphabet { _ = vocabulary.id(of: Array(String(scalar).utf8)) }
        // A special token spelled like a byte symbol takes its place (the library looks symbols up by spelling).
        let symbolForByte = ByteLevelAlphabet.scalarForByte.map { vocabulary.id(of: Array(String($0).utf8)) }

        var symbols: [[Int32]] = []
        var counts: [Int] = []
        counter.forEachWord { bytes, count in
            guard bytes.count > 1 else { return }  // a single symbol has no pairs
            symbols.append(bytes.map { symbolForByte[Int($0)] })
            counts.append(count)
        }
        var words = TrainingWords(symbols: symbols, counts: counts)
        var pairs = PairStatistics(words)
        var merges: [(pair: SymbolPair, merged: Int32)] = []

        let report = { (merges: Int) in
            progress?(Progress(merges: merges, vocabularySize: vocabulary.count, targetVocabularySize: vocabularySize))
        }
        report(0)
        while vocabulary.count < vocabularySize, var top = pairs.queue.pop() {
            let current = pairs.count(of: top.pair)
            if top.count != current {
                top.count = current
                pairs.queue.push(top)
                continue
            }
            if top.count < 1 || top.count < minFrequency { break }
            let merged = vocabulary.id(of: vocabulary.spelling(top.pair.left) + vocabulary.spelling(top.pair.right))
            merges.append((top.pair, merged))
            pairs.merge(top, into: merged, in: &words)
            if merges.count % 500 == 0 { report(merges.count) }
        }
        report(merges.count)

        var specials: [(id: Int, content: String)] = []
        for token in specialTokens {
            let id = Int(vocabulary.id(of: Array(token.utf8)))
            if !specials.contains(where: { $0.id == id }) { specials.append((id, token)) }
        }
        return TrainedTokenizer(tokens: vocabulary.spellings.map { String(decoding: $0, as: UTF8.self) },
                                merges: Self.lastOfEachPair(merges), specialTokens: specials.sorted { $0.id < $1.id })
    }

    /// A pair merged twice (possible when a token is re-made by a different pair of parts) keeps
    /// its later rank, as in the library's pair → (rank, id) map.
    private static func lastOfEachPair(_ merges: [(pair: SymbolPair, merged: Int32)]) -> [(left: Int, right: Int)] {
        var lastRank: [SymbolPair: Int] = [:]
        for (rank, merge) in merges.enumerated() { lastRank[merge.pair] = rank }
        return merges.enumerated()
            .filter { lastRank[$0.element.pair] == $0.offset }
            .map { (Int($0.element.pair.left), Int($0.element.pair.right)) }
    }
}

/// Token spellings (UTF-8 of the byte-level string) ↔ ids, ids given in order of first use.
private struct Vocabulary {
    private(set) var spellings: [[UInt8]] = []
    private var ids: [[UInt8]: Int32] = [:]

    var count: Int { spellings.count }

    func spelling(_ id: Int32) -> [UInt8] { spellings[Int(id)] }

    /// The id of `spelling`, added as a new token if it is not in the vocabulary yet.
    mutating func id(of spelling: [UInt8]) -> Int32 {
        if let id = ids[spelling] { return id }
        let id = Int32(spellings.count)
        spellings.append(spelling)
        ids[spelling] = id
        return id
    }
}

/// The count of every adjacent pair over all words, which words each candidate occurs in, and the
/// queue of candidates.
private struct PairStatistics {
    private var slotOfPair: [SymbolPair: Int32] = [:]
    private var pairOfSlot: [SymbolPair] = []
    private var counts: [Int] = []
    /// Word indices per queued candidate (`MergeCandidate.words`), each list without repeats.
    private var wordLists: [[Int32]] = []
    var queue = MergeQueue()

    init(_ words: TrainingWords) {
        for (index, word) in words.symbols.enumerated() {
            let count = words.counts[index]
            for position in 1..<word.count {
                let slot = self.slot(SymbolPair(word[position - 1], word[position]))
                counts[slot] += count
                // Words are visited in order, so a repeat can only be the last entry.
                if wordLists[slot].last != Int32(index) { wordLists[slot].append(Int32(index)) }
            }
        }
        // Every pair starts with one candidate holding all its words; the list index is the slot.
        for (slot, pair) in pairOfSlot.enumerated() where counts[slot] > 0 {
            queue.push(MergeCandidate(count: counts[slot], pair: pair, words: Int32(slot)))
        }
    }

    func count(of pair: SymbolPair) -> Int {
        slotOfPair[pair].map { counts[Int($0)] } ?? 0
    }

    /// Fuses `candidate.pair` into `merged` in the candidate's words, updates the counts of the
    /// pairs around each fused occurrence, and queues each pair that gained occurrences with the
    /// words where it did.
    mutating func merge(_ candidate: MergeCandidate, into merged: Int32, in words: inout TrainingWords) {
        var gained: [SymbolPair: Int] = [:]
        var gainedPairs: [SymbolPair] = []
        var gainedWords: [[Int32]] = []
        for word in wordLists[Int(candidate.words)] {
            let weight = words.counts[Int(word)]
            words.merge(candidate.pair, into: merged, inWord: Int(word)) { pair, change in
                counts[slot(pair)] += change * weight
                guard change > 0 else { return }
                if let index = gained[pair] {
                    if gainedWords[index].last != word { gainedWords[index].append(word) }
                } else {
                    gained[pair] = gainedPairs.count
                    gainedPairs.append(pair)
                    gainedWords.append([word])
                }
            }
        }
        wordLists[Int(candidate.words)] = []  // the candidate is used up
        for (pair, list) in zip(gainedPairs, gainedWords) {
            let count = self.count(of: pair)
            guard count > 0 else { continue }
            wordLists.append(list)
            queue.push(MergeCandidate(count: count, pair: pair, words: Int32(wordLists.count - 1)))
        }
    }

    /// The slot of `pair`, created (count 0, no words) the first time the pair is seen.
    private mutating func slot(_ pair: SymbolPair) -> Int {
        if let slot = slotOfPair[pair] { return Int(slot) }
        let slot = counts.count
        slotOfPair[pair] = Int32(slot)
        pairOfSlot.append(pair)
        counts.append(0)
        wordLists.append([])
        return slot
    }
}
