import XCTest
@testable import MambaLM
import TensorCore

/// PEFT LoRA adapters merged into a base model as `PeftModel.from_pretrained(...).merge_and_unload()`
/// does, against transformers + peft (Tests/Fixtures/adapters, from scripts/fixtures/adapters.py).
/// Tolerances: logits 1e-4 absolute (magnitude ≲ 10), as the plain-model reference tests: the forward
/// pass in float32 with sums in another order stays near 1e-5, and the merge adds one rounding per
/// weight (a delta sums r ≤ 8 products). Merged weights against a slow float64 merge, or against
/// PEFT's own merged checkpoint: 1e-6 (a few float32 ulps of weights ≲ 3).
final class AdapterTests: XCTestCase {
    static let logitsTolerance: Float = 1e-4
    static let weightTolerance: Float = 1e-6

    static func adapter(_ name: String) -> URL { Fixtures.root.appendingPathComponent("adapters/\(name)") }

    func outputs(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(path: Fixtures.root.appendingPathComponent("adapters/\(name).outputs.safetensors").path)
    }

    /// Merged logits of base + adapter (plain model) against transformers' merged model.
    func checkMergedLogits(base: String, adapter: String) throws -> Float {
        let model = try ModelLoader.load(ModelDirectory(Fixtures.mamba1(base)), adapter: PEFTAdapter(Self.adapter(adapter)))
        let plain = try XCTUnwrap(model as? MambaModel)
        let golden = try outputs(adapter)
        var worst: Float = 0
        for length in [7, 64] {
            let d = try plain.forward(golden.integers("input_ids.L\(length)")).maxAbsDifference(golden.tensor("logits.L\(length)"))
            XCTAssertLessThanOrEqual(d, Self.logitsTolerance, "\(adapter) L=\(length)")
            worst = max(worst, d)
        }
        return worst
    }

    func testTiedMergeMatchesPEFT() throws {
        let d = try checkMergedLogits(base: "tiny_a", adapter: "tiny_a_lora")
        print("tied (tiny_a + tiny_a_lora, both deltas into the shared matrix) vs transformers+peft: max |Δlogits| = \(d)")
    }

    func testUntiedRSLoRAMergeMatchesPEFT() throws {
        let adapter = try PEFTAdapter(Self.adapter("tiny_b_rslora"))
        XCTAssertTrue(adapter.configuration.useRSLoRA)
        XCTAssertEqual(adapter.configuration.scale, Float(16 / 8.0.squareRoot()), accuracy: 1e-6)
        let d = try checkMergedLogits(base: "tiny_b", adapter: "tiny_b_rslora")
        print("untied rsLoRA (tiny_b + tiny_b_rslora) vs transformers+peft: max |Δlogits| = \(d)")
    }

    /// The BLAS merge against its slow twin: W + scale·B·A and W + scale·(B·A)ᵀ in float64, per tensor;
    /// tied: the embedding matrix gets the embeddings' delta and lm_head's.
    func testMergeMatchesSlowFloat64Merge() throws {
        let directory = try ModelDirectory(Fixtures.mamba1("tiny_a"))
        let adapter = try PEFTAdapter(Self.adapter("tiny_a_lora"))
        let c = try XCTUnwrap(directory.configuration.mamba)
        let merged = try WeightMap.load(from: directory, adapter: adapter, expected: MambaModel.expectedWeights(c),
                                        sanitize: MambaModel.sanitize(c))
        let base = try WeightMap.load(from: directory, expected: MambaModel.expectedWeights(c), sanitize: MambaModel.sanitize(c))
        let file = adapter.file, s = Double(adapter.configuration.scale), p = "base_model.model."
        func slowDelta(_ a: String, _ b: String, embedding: Bool) throws -> [Double] {
            let (a, b) = (try file.tensor(p + a), try file.tensor(p + b))
            let r = a.shape[0]
            let (rows, columns) = embedding ? (a.shape[1], b.shape[0]) : (b.shape[0], a.shape[1])
            var delta = [Double](repeating: 0, count: rows * columns)
            for i in 0..<rows {
                for j in 0..<columns {
                    var sum = 0.0
                    for k in 0..<r {
                        // Linear: (B·A)[i, j] = Σ B[i, k] A[k, j].  Embedding: (B·A)ᵀ[i, j] = Σ B[j, k] A[k, i].
                        sum += embedding ? Double(b.data[j * r + k]) * Double(a.data[k * rows + i])
                                         : Double(b.data[i * r + k]) * Double(a.data[k * columns + j])
                    }
                    delta[i * columns + j] = s * sum
                }
            }
            return delta
        }
        func check(_ name: String, _ deltas: [[Double]]) {
            let w = base[name].data
            let expected = Tensor(shape: base[name].shape, data: w.indices.map { i in Float(Double(w[i]) + deltas.reduce(0) { $0 + $1[i] }) })
            let d = merged[name].maxAbsDifference(expected)
            print("merge vs float64 merge, \(name): max |Δ| = \(d)")
            XCTAssertLessThanOrEqual(d, Self.weightTolerance, name)
        }
        try check("backbone.embeddings.weight", [slowDelta("backbone.embeddings.lora_embedding_A", "backbone.embeddings.lora_embedding_B", embedding: true),
                                                 slowDelta("lm_head.lora_A.weight", "lm_head.lora_B.weight", embedding: false)])
        for name in ["in_proj", "out_proj"] {
            let m = "backbone.layers.1.mixer.\(name)"
            try check("\(m).weight", [slowDelta("\(m).lora_A.weight", "\(m).lora_B.weight", embedding: false)])
        }
        // modules_to_save: dt_proj comes whole from the adapter, not from the base.
        let dt = "backbone.layers.0.mixer.dt_proj.weight"
        XCTAssertEqual(merged[dt], try file.tensor(p + dt))
        XCTAssertNotEqual(merged[dt], base[dt])
    }

    /// The layout of the authors' release: a plain base + an adapter whose modules_to_save carry ReMamba's
    /// Q/K/V and ret_bias. Under --remamba the result must be the model PEFT merged and saved whole.
    func testReMambaModulesComeFromTheAdapter() throws {
        let settings = CompressionSettings(start: 0, length: 0.5, ratio: 0.1)
        let adapter = try PEFTAdapter(Self.adapter("tiny_a_remamba"))
        let fromAdapter = try XCTUnwrap(try ModelLoader.load(ModelDirectory(Fixtures.mamba1("tiny_a")), compression: settings,
                                                            adapter: adapter) as? ReMambaModel<MambaModel>)
        let mergedDirectory = try ModelDirectory(Self.adapter("tiny_a_remamba_merged"))
        let fromMerged = try XCTUnwrap(try ModelLoader.load(mergedDirectory, compression: settings) as? ReMambaModel<MambaModel>)

        // Weights: the ReMamba tensors are the adapter's, exactly; the LoRA-merged ones within float32 rounding.
        let c = try XCTUnwrap(mergedDirectory.configuration.mamba)
        let expected = MambaModel.expectedWeights(c).merging(
            ReMambaModel<MambaModel>.expectedWeights(hiddenSize: c.hiddenSize, layers: c.numberOfLayers, deltaOffsetSize: c.innerSize)) { a, _ in a }
        let ours = try WeightMap.load(from: ModelDirectory(Fixtures.mamba1("tiny_a")), adapter: adapter, expected: expected,
                                      sanitize: MambaModel.sanitize(c))
        let peft = try WeightMap.load(from: mergedDirectory, expected: expected, sanitize: MambaModel.sanitize(c))
        var worstWeight: Float = 0
        for name in expected.keys.sorted() {
            if name.contains("_proj.0.") || name.contains("_proj.2.") || name.hasSuffix("ret_bias.param") {
                XCTAssertEqual(ours[name], try adapter.file.tensor("base_model.model." + name), name)
            }
            worstWeight = max(worstWeight, ours[name].maxAbsDifference(peft[name]))
        }
        XCTAssertLessThanOrEqual(worstWeight, Self.weightTolerance)

        // ReMamba end to end (stage 1 + stage 2 + three decoded steps) against the merged checkpoint.
        let ids = try outputs("tiny_a_remamba").integers("input_ids.L64")
        func run(_ model: ReMambaModel<MambaModel>) throws -> (Tensor, [Int]) {
            let stage2 = try model.runStage1(for: Array(ids[0..<60]))
            var state = model.makeState()
            var rows = [model.base.logits(model.runStage2(stage2, state: &state, keep: .all))]
            for id in ids[60...] { rows.append(model.step(id, state: &state).reshaped([1, model.vocabularySize])) }
            return (Tensor.concatenateRows(rows), stage2.compressed.selected)
        }
        let (a, selectedA) = try run(fromAdapter), (b, selectedB) = try run(fromMerged)
        XCTAssertEqual(selectedA, selectedB)
        let d = a.maxAbsDifference(b)
        XCTAssertLessThanOrEqual(d, Self.logitsTolerance)
        print("ReMamba base+adapter vs PEFT-merged checkpoint: weights max |Δ| = \(worstWeight), logits max |Δ| = \(d) "
              + "(selected \(selectedA))")

        // The same adapter without --remamba: the plain merged model, its ReMamba tensors left unread.
        let plainDifference = try checkMergedLogits(base: "tiny_a", adapter: "tiny_a_remamba")
        print("tiny_a + tiny_a_remamba as plain Mamba vs transformers+peft: max |Δlogits| = \(plainDifference)")
    }

    func testReMambaNeedsTheModulesSomewhere() throws {
        XCTAssertThrowsError(try ModelLoader.load(ModelDirectory(Fixtures.mamba1("tiny_a")), compression: .paperDefault,
                                                  adapter: PEFTAdapter(Self.adapter("tiny_a_lora")))) { error in
            guard case CompressionError.notAReMambaCheckpoint = error else { return XCTFail("\(error)") }
        }
    }
}
