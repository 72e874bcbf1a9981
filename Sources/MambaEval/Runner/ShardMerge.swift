import Foundation

/// `remamba eval merge`: the predictions of N shard runs put back together in the single run's order
/// (for each --max-length in turn, the shards' lines in shard order), after checking that the shards
/// are one run's complete and disjoint shares. Lines are copied byte for byte.
public enum ShardMerge {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case noManifest(String), malformedManifest(String, String), mismatch(String), overlap(String), gap(String)
        public var description: String {
            switch self {
            case .noManifest(let path): return "\(path): no shard manifest beside it (\(path).shard.json); was it written by `remamba eval … --shard`?"
            case .malformedManifest(let path, let reason): return "\(path): not a shard manifest: \(reason)"
            case .mismatch(let what): return "the shards are not one run: \(what)"
            case .overlap(let what): return "overlap: \(what)"
            case .gap(let what): return "gap: \(what)"
            }
        }
    }

    /// The merged lines (each ending in a newline) and the task of the run.
    public static func merge(_ files: [URL]) throws -> (lines: Data, task: String) {
        var shards: [(manifest: ShardManifest, file: URL)] = []
        for file in files { shards.append((try ShardManifest.read(besides: file), file)) }
        guard let reference = shards.first?.manifest else { throw Failure.gap("no shard files given") }
        for (m, file) in shards {
            for (name, same) in [("task", m.task == reference.task), ("number of shards", m.shard.count == reference.shard.count),
                                 ("number of samples", m.samples == reference.samples), ("max lengths", m.maxLengths == reference.maxLengths)]
            where !same {
                throw Failure.mismatch("\(file.lastPathComponent) differs from \(files[0].lastPathComponent) in its \(name)")
            }
        }
        shards.sort { $0.manifest.shard.index < $1.manifest.shard.index }
        for (a, b) in zip(shards, shards.dropFirst()) where a.manifest.shard.index == b.manifest.shard.index {
            throw Failure.overlap("shard \(a.manifest.shard.index) is given twice (\(a.file.path), \(b.file.path))")
        }
        if let missing = (0..<reference.shard.count).first(where: { i in !shards.contains { $0.manifest.shard.index == i } }) {
            throw Failure.gap("shard \(missing) of \(reference.shard.count) is missing")
        }
        var expectedStart = 0
        for (m, file) in shards {
            if m.first > expectedStart { throw Failure.gap("samples \(expectedStart)..<\(m.first) are in no shard (\(file.lastPathComponent))") }
            if m.first < expectedStart { throw Failure.overlap("samples \(m.first)..<\(expectedStart) are in two shards (\(file.lastPathComponent))") }
            expectedStart = m.end
        }
        if expectedStart != reference.samples { throw Failure.gap("samples \(expectedStart)..<\(reference.samples) are in no shard") }

        var groups: [[Data]] = Array(repeating: [], count: max(reference.maxLengths.count, 1))
        var seen = Set<String>()
        for (m, file) in shards {
            let lines = try predictionLines(file)
            if lines.count != m.predictions {
                throw Failure.gap("\(file.path) has \(lines.count) of its \(m.predictions) predictions (an unfinished shard: rerun it, it resumes)")
            }
            for (record, line) in lines {
                let key = "\(record.dataset)\u{1}\(record.id ?? "")\u{1}\(record.maxLength ?? 0)"
                if record.id != nil, !seen.insert(key).inserted {
                    throw Failure.overlap("\(record.dataset) sample \(record.id!) at max length \(record.maxLength ?? 0) is in two shards")
                }
                let group = record.maxLength.flatMap { reference.maxLengths.firstIndex(of: $0) } ?? 0
                groups[group].append(line)
            }
        }
        return (Data(groups.joined().joined()), reference.task)
    }

    /// Every non-blank line of a predictions file, decoded and as bytes (with its newline).
    static func predictionLines(_ url: URL) throws -> [(PredictionRecord, Data)] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw JSONLines.BadLine(path: url.path, line: 0, reason: "cannot read the file") }
        let decoded = try JSONLines.decode(PredictionRecord.self, data: data, path: url.path)
        let raw = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        return decoded.map { ($0.value, Data(raw[$0.line - 1]) + [UInt8(ascii: "\n")]) }
    }
}
