import XCTest
@testable import MambaLM
import TensorCore

/// The batched decoding step (`step(_:states:)`, continuous batching in the server) against its slow
/// twin, each sequence stepped alone: sequences with different prompts and positions, batches smaller
/// and larger than the streaming kernel's 16 rows, in every weight type.
final class BatchedStepTests: XCTestCase {
    /// A batched row runs the same kernels on the same numbers as the single step, except that the
    /// projections sum in another order when the batch goes through sgemm (B > 16): 1e-5 of the logits' scale.
    static let tolerance: Float = 1e-5

    func testBatchedStepEqualsSingleSteps() throws {
        let settings = CompressionSettings(start: 0, length: 0.5, ratio: 0.25)
        let models: [(String, any LanguageModel)] = [
            ("mamba1", try ModelLoader.load(ModelDirectory(Fixtures.mamba1("tiny_a")))),
            ("mamba2", try ModelLoader.load(ModelDirectory(Fixtures.root.appendingPathComponent("mamba2/tiny_a")))),
            ("remamba1", try ModelLoader.load(ModelDirectory(Fixtures.official.appendingPathComponent("models/remamba1_a")), compression: settings)),
            ("remamba2", try ModelLoader.load(ModelDirectory(Fixtures.official.appendingPathComponent("models/remamba2_a")), compression: settings)),
            ("mamba1 q8", try ModelLoader.load(ModelDirectory(Fixtures.mamba1("tiny_a")), dtype: .q8_0)),
            ("mamba2 bf16", try ModelLoader.load(ModelDirectory(Fixtures.root.appendingPathComponent("mamba2/tiny_a")), dtype: .bf16)),
            ("mamba1 f16", try ModelLoader.load(ModelDirectory(Fixtures.mamba1("tiny_a")), dtype: .f16)),
        ]
        for (name, model) in models {
            for batch in [1, 5, 17] {
                try check(model, batch: batch, label: "\(name) B=\(batch)")
            }
        }
    }

    func check(_ model: any LanguageModel, batch: Int, label: String) throws {
        let v = model.vocabularySize
        var single: [ModelState] = [], batched: [ModelState] = []
        var next: [Int] = []
        for b in 0..<batch {
            var state = model.makeState()
            let prompt = (0..<(3 + 5 * b)).map { ($0 * 7 + b * 13 + 1) % v }
            let logits = try model.prefill(prompt, state: &state)
            single.append(state)
            batched.append(state)
            next.append(Sampler.argmax(logits.data))
        }
        var worst: Float = 0
        for _ in 0..<3 {
            let together = model.step(next, states: &batched)
            XCTAssertEqual(together.shape, [batch, v], label)
            for b in 0..<batch {
                let alone = model.step(next[b], state: &single[b])
                let row = Tensor(shape: [v], data: Array(together.row(b)))
                let scale = alone.data.map(abs).max()!
                worst = max(worst, row.maxAbsDifference(alone) / scale)
                XCTAssertEqual(batched[b].position, single[b].position, label)
                next[b] = Sampler.argmax(alone.data)
            }
        }
        let stateDifference = zip(single, batched).map { a, b in
            zip(a.layers, b.layers).map { max($0.ssm.maxAbsDifference($1.ssm), $0.conv.maxAbsDifference($1.conv)) }.max()!
        }.max()!
        print("\(label): max |Δlogit| \(worst) of scale, states \(stateDifference) (tolerance \(Self.tolerance))")
        XCTAssertLessThanOrEqual(worst, Self.tolerance, label)
        XCTAssertLessThanOrEqual(stateDifference, Self.tolerance, label)
    }
}
