/// A synthetic sample as fine-tuning data: `{"prompt", "completion"}` (the shape `remamba train` reads),
/// the prompt filled from the task's template exactly as the evaluation fills it, the completion the first
/// answer after a space (the prompts end in "Answer:" or similar).
public struct TrainingPair: Codable, Sendable, Equatable {
    public var prompt: String
    public var completion: String

    public init(_ sample: LongBenchSample, task: SyntheticTask) {
        prompt = LongBenchPrompts.fill(task.template, context: sample.context, input: sample.input)
        completion = " " + (sample.answers.first ?? "")
    }
}
