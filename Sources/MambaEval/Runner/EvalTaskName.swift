/// What `--task NAME` names: a LongBench dataset (v1 or -E "_e"), every dataset of a LongBench-format file
/// ("longbench", "synthetic"), a synthetic task, an L-Eval closed-ended task, or a multiple-choice task.
public enum EvalTaskName: Equatable, Sendable {
    case longBench(String?)
    case lEval(LEvalTask)
    case multipleChoice(String)

    public static let multipleChoiceTasks = ["hellaswag", "piqa", "arc_easy", "arc_challenge", "winogrande", "openbookqa"]

    public enum Failure: Error, CustomStringConvertible {
        case unknown(String)
        public var description: String {
            switch self {
            case .unknown(let name):
                let longBench = LongBenchDataset.metrics.filter { $0.value != .qaF1Zh && $0.value != .rougeZh }.keys.sorted()
                return "unknown task \"\(name)\". Known: longbench (each line's dataset), synthetic; LongBench: \(longBench.joined(separator: ", ")) (append _e for LongBench-E); synthetic: \(SyntheticTask.allCases.map(\.rawValue).joined(separator: ", ")); L-Eval: \(LEvalTask.allCases.map(\.rawValue).joined(separator: ", ")); multiple choice: \(multipleChoiceTasks.joined(separator: ", "))"
            }
        }
    }

    public init(_ name: String) throws {
        if name == "longbench" || name == "synthetic" { self = .longBench(nil); return }
        if let task = LEvalTask(rawValue: name) { self = .lEval(task); return }
        if Self.multipleChoiceTasks.contains(name) { self = .multipleChoice(name); return }
        let base = name.hasSuffix("_e") ? String(name.dropLast(2)) : name
        guard LongBenchDataset.metrics[base] != nil || SyntheticTask(rawValue: base) != nil else { throw Failure.unknown(name) }
        _ = try LongBenchDataset(name)   // refuses the jieba-scored Chinese datasets with their own message
        self = .longBench(name)
    }
}
