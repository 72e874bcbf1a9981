import Foundation
import OutputFiles

/// One share of an evaluation spread over N machines: shard `index` of `count` (0-based) takes the
/// contiguous block of samples [index·n/count, (index + 1)·n/count), so the shards tile the data in
/// order and `ShardMerge` can put their predictions back in the single run's order.
public struct EvalShard: Sendable, Equatable, Codable {
    public let index: Int
    public let count: Int

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case malformed(String), outOfRange(index: Int, count: Int), noEnvironment, missingCount(variable: String)
        public var description: String {
            switch self {
            case .malformed(let text): return "--shard \"\(text)\": expected I/N (0 ≤ I < N), or \"auto\""
            case let .outOfRange(index, count): return "--shard: index \(index) is outside 0..<\(count)"
            case .noEnvironment:
                return "--shard auto: neither SLURM_ARRAY_TASK_ID (Slurm job array) nor JOB_COMPLETION_INDEX (Kubernetes Indexed Job) is set"
            case .missingCount(let variable): return "--shard auto: \(variable) is set but the number of shards is not: give --shard-count N"
            }
        }
    }

    public init(index: Int, count: Int) throws(Failure) {
        guard count >= 1, (0..<count).contains(index) else { throw .outOfRange(index: index, count: count) }
        self.index = index
        self.count = count
    }

    /// A manifest's shard is checked as --shard is (a count of 0 or less would divide by zero in `range`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(index: c.decode(Int.self, forKey: .index), count: c.decode(Int.self, forKey: .count))
    }

    /// "I/N", or "auto": the index from the scheduler's environment — a Slurm job array
    /// (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed
    /// Job (JOB_COMPLETION_INDEX, whose count is not in the environment: `count`, i.e. --shard-count).
    /// `count` overrides the environment's count where given.
    public static func parse(_ text: String, count: Int?, environment: [String: String]) throws(Failure) -> EvalShard {
        if text == "auto" {
            if let id = environment["SLURM_ARRAY_TASK_ID"].flatMap(Int.init) {
                let first = environment["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) ?? 0
                guard let n = count ?? environment["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init) else {
                    throw .missingCount(variable: "SLURM_ARRAY_TASK_ID")
                }
                return try EvalShard(index: id - first, count: n)
            }
            if let id = environment["JOB_COMPLETION_INDEX"].flatMap(Int.init) {
                guard let count else { throw .missingCount(variable: "JOB_COMPLETION_INDEX") }
                return try EvalShard(index: id, count: count)
            }
            throw .noEnvironment
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let n = Int(parts[1]) else { throw .malformed(text) }
        if let count, count != n { throw .malformed("\(text)\" with --shard-count \(count)") }
        return try EvalShard(index: index, count: n)
    }

    /// The positions of this shard's samples among `total`.
    public func range(of total: Int) -> Range<Int> { (index * total / count)..<((index + 1) * total / count) }

    /// "shard-I-of-N", for file names.
    public var label: String { "shard-\(index)-of-\(count)" }
}

/// What a shard run writes beside its predictions (`<predictions>.shard.json`), so that a merge can
/// check the shards belong together and tile the samples without overlaps or gaps.
public struct ShardManifest: Codable, Sendable, Equatable {
    public var task: String
    public var shard: EvalShard
    /// Samples of the whole run and this shard's block of them.
    public var samples: Int
    public var first: Int
    public var end: Int
    public var maxLengths: [Int]
    /// Lines the predictions file has when the shard is complete.
    public var predictions: Int

    enum CodingKeys: String, CodingKey {
        case task, shard, samples, first, end, maxLengths = "max_lengths", predictions
    }

    public init(task: String, shard: EvalShard, samples: Int, maxLengths: [Int], predictions: Int) {
        let r = shard.range(of: samples)
        self.task = task; self.shard = shard; self.samples = samples; first = r.lowerBound; end = r.upperBound
        self.maxLengths = maxLengths; self.predictions = predictions
    }

    public static func url(for predictions: URL) -> URL { predictions.appendingPathExtension("shard.json") }

    public func write(besides predictions: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try OutputFile.write(encoder.encode(self), to: Self.url(for: predictions).path)
    }

    /// The manifest beside `predictions`, its numbers checked (they come from a file a user can edit).
    public static func read(besides predictions: URL) throws(ShardMerge.Failure) -> ShardManifest {
        let url = url(for: predictions)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw .noManifest(predictions.path) }
        let manifest: ShardManifest
        do { manifest = try JSONDecoder().decode(ShardManifest.self, from: data) } catch {
            throw .malformedManifest(url.path, "\(error)")
        }
        guard manifest.samples >= 0, 0 <= manifest.first, manifest.first <= manifest.end, manifest.end <= manifest.samples,
              manifest.predictions >= 0 else {
            throw .malformedManifest(url.path, "expected 0 ≤ first ≤ end ≤ samples and predictions ≥ 0, got first \(manifest.first), "
                                     + "end \(manifest.end), samples \(manifest.samples), predictions \(manifest.predictions)")
        }
        return manifest
    }
}
