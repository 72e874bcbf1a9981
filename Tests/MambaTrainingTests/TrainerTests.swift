import XCTest
import MambaLM
@testable import MambaTraining
import TensorCore

/// The loop: exact resume from a checkpoint, and the loss falling on a toy corpus (proof 3c).
final class TrainerTests: XCTestCase {
    func testResumeFromACheckpointIsBitIdentical() throws {
        let c = TinyTraining.configuration()
        let examples = TinyTraining.randomExamples(count: 5, length: 12, vocabulary: c.vocabularySize)
        try assertResumeIsBitIdentical(objective: MambaObjective(configuration: c), examples: examples,
                                       start: TrainingState(parameters: TinyTraining.parameters(c), seed: 3))
    }

    /// The same with an objective that draws from the generator (ReMamba's sampled compression and LoRA's
    /// dropout masks) through LoRA.
    func testReMambaLoRAResumeIsBitIdentical() throws {
        var lora = LoRASettings(rank: 2)
        lora.dropout = 0.1
        let task = try TrainingTask(directory: ModelDirectory(ReMambaTrainingTests.base), lora: lora,
                                    remamba: true, merge: false, options: TrainingOptions(), seed: 0)
        var generator = SeededGenerator(seed: 4)
        let examples = (0..<3).map { _ in
            InstructionExamples.example(prompt: (0..<30).map { _ in Int(generator.next() % 1000) }, response: [8, 9],
                                        endOfSequence: 0, maxLength: 64)
        }
        try assertResumeIsBitIdentical(objective: task.objective, examples: examples,
                                       start: TrainingState(parameters: task.initialParameters, seed: 3))
    }

    /// Six steps straight vs three, a checkpoint, a reload and three more: identical weights, moments,
    /// data position, generator and losses; the log has each step once.
    func assertResumeIsBitIdentical(objective: any TrainingObjective, examples: [TrainingExample], start: TrainingState) throws {
        var settings = TrainingSettings(totalSteps: 6)
        settings.learningRate = 1e-2
        settings.accumulation = 2
        settings.warmupSteps = 1

        var straight = Trainer(objective: objective, examples: examples, settings: settings, state: start)
        while !straight.isFinished { straight.step() }

        let directory = TinyTraining.scratchDirectory("resume")
        defer { try? FileManager.default.removeItem(at: directory) }
        var first = TrainingRun(trainer: Trainer(objective: objective, examples: examples, settings: settings, state: start),
                                directory: directory, saveEvery: 2)
        var exportedAtStop: NamedTensors = [:]
        try first.run(stopAfter: 3) { exportedAtStop = $0 }
        XCTAssertEqual(exportedAtStop, first.trainer.state.parameters, "checkpoints export the model so far")
        let resumed = try TrainingRun.resumedState(in: directory, settings: settings, like: start.parameters)
        XCTAssertEqual(resumed.step, 3)
        var second = TrainingRun(trainer: Trainer(objective: objective, examples: examples, settings: settings, state: resumed),
                                 directory: directory, saveEvery: 2)
        var exported: NamedTensors = [:]
        try second.run { exported = $0 }

        XCTAssertEqual(second.trainer.state.parameters, straight.state.parameters, "weights after stop + resume")
        XCTAssertEqual(exported, straight.state.parameters)
        XCTAssertEqual(second.trainer.state.optimizer, straight.state.optimizer, "AdamW moments and step")
        XCTAssertEqual(second.trainer.state.position, straight.state.position)
        XCTAssertEqual(second.trainer.state.history.map(\.loss), straight.state.history.map(\.loss))
        var generator = straight.state.generator, reloaded = second.trainer.state.generator
        XCTAssertEqual((0..<4).map { _ in generator.next() }, (0..<4).map { _ in reloaded.next() }, "generator state")
        let logLines = try String(contentsOf: second.report.logURL, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(logLines.count, 6, "one log line per step, none repeated across the resume")
        XCTAssertTrue(FileManager.default.fileExists(atPath: second.report.chartURL.path))

        var other = settings
        other.learningRate = 1e-3
        XCTAssertThrowsError(try TrainingRun.resumedState(in: directory, settings: other, like: start.parameters))
        other = settings
        other.objective = "another objective"
        XCTAssertThrowsError(try TrainingRun.resumedState(in: directory, settings: other, like: start.parameters))
    }

    /// Proof 3c: a tiny model learns a toy corpus (a repeated 12-token cycle with one branch): the mean loss of
    /// each block of 50 steps falls, from ~ln(16) to well under half of it.
    func testLossFallsSteadilyOnAToyCorpus() {
        let c = TinyTraining.configuration(vocabulary: 16, hidden: 16, layers: 1)
        let cycle = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        let tokens = (0..<40).flatMap { $0 % 2 == 0 ? cycle : cycle.map { $0 == 6 ? 13 : $0 } }
        let examples = TextWindows.examples(tokens: tokens, maxLength: 24)
        var settings = TrainingSettings(totalSteps: 300)
        settings.learningRate = 1e-2
        settings.weightDecay = 0
        settings.accumulation = 1
        settings.warmupSteps = 10
        var trainer = Trainer(objective: MambaObjective(configuration: c), examples: examples, settings: settings,
                              state: TrainingState(parameters: TinyTraining.parameters(c), seed: 0))
        var losses: [Double] = []
        while !trainer.isFinished { losses.append(trainer.step().loss) }
        let blocks = stride(from: 0, to: losses.count, by: 50).map { losses[$0..<min($0 + 50, losses.count)].reduce(0, +) / 50 }
        print("toy corpus: mean loss per 50 steps \(blocks.map { String(format: "%.3f", $0) })")
        for (a, b) in zip(blocks, blocks.dropFirst()) { XCTAssertLessThan(b, a) }
        XCTAssertLessThan(blocks.last!, blocks.first! / 2)
    }
}
