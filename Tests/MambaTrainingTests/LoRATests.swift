import XCTest
import MambaLM
@testable import MambaTraining
import TensorCore
import TestSupport

/// LoRA: PEFT's initialisation, merged vs unmerged modules, the factors' gradients against finite
/// differences, and the written adapter read back by `PEFTAdapter` (the loader verified against peft).
final class LoRATests: XCTestCase {
    /// A LoRA model over a tiny random base, with its factors moved off PEFT's zero-delta start.
    static func trainedLoRA(tied: Bool, seed: UInt64 = 5) -> (LoRAModel, NamedTensors, MambaConfiguration) {
        var c = TinyTraining.configuration(vocabulary: 20, hidden: 8, layers: 2)
        c.tieWordEmbeddings = tied
        let lora = LoRAModel(base: TinyTraining.parameters(c), settings: LoRASettings(rank: 3, alpha: 6))
        var generator = SeededGenerator(seed: seed)
        var p = lora.initialParameters(generator: &generator)
        for name in p.keys.sorted() { p[name] = Tensor.randomNormal(p[name]!.shape, std: 0.1, generator: &generator) }
        return (lora, p, c)
    }

    func testPEFTInitialisationLeavesTheModelUnchanged() {
        let c = TinyTraining.configuration(vocabulary: 20, hidden: 8, layers: 2)
        let lora = LoRAModel(base: TinyTraining.parameters(c), settings: LoRASettings(rank: 4))
        var generator = SeededGenerator(seed: 1)
        let p = lora.initialParameters(generator: &generator)
        let inA = p["base_model.model.backbone.layers.0.mixer.in_proj.lora_A.weight"]!
        XCTAssertEqual(inA.shape, [4, 8])
        XCTAssertTrue(inA.data.allSatisfy { abs($0) <= 1 / Float(8).squareRoot() } && inA.data.contains { $0 != 0 }, "kaiming_uniform(a=√5): U(±1/√in)")
        XCTAssertTrue(p["base_model.model.backbone.layers.0.mixer.in_proj.lora_B.weight"]!.data.allSatisfy { $0 == 0 })
        XCTAssertTrue(p["base_model.model.backbone.embeddings.lora_embedding_A"]!.data.allSatisfy { $0 == 0 })
        XCTAssertEqual(p["base_model.model.backbone.embeddings.lora_embedding_B"]!.shape, [8, 4])
        XCTAssertEqual(p["base_model.model.lm_head.lora_A.weight"]!.shape, [4, 8], "the tied head gets its own pair")
        XCTAssertNotNil(p["base_model.model.backbone.layers.1.mixer.dt_proj.bias"], "dt_proj is trained whole")
        XCTAssertNil(p["base_model.model.backbone.layers.1.mixer.A_log"], "A_log is frozen")
        let effective = lora.effective(p)
        for (name, tensor) in lora.base { XCTAssertEqual(effective[name], tensor, name) }
        XCTAssertEqual(effective["lm_head.weight"], lora.base["backbone.embeddings.weight"])
        XCTAssertEqual(lora.usedModulesToSave, ["dt_proj"])
    }

    /// Slow twin of the merge: each module computed unmerged, x·Wᵀ + s·(x·Aᵀ)·Bᵀ and W[id] + s·(B·A[:, id]),
    /// equals the merged effective weights' x·W′ᵀ and W′[id].
    func testMergedModulesEqualUnmerged() {
        let (lora, p, _) = Self.trainedLoRA(tied: true)
        let effective = lora.effective(p)
        var generator = SeededGenerator(seed: 9)
        var worst: Float = 0
        for t in lora.targets {
            let a = p[lora.keyA(t)]!, b = p[lora.keyB(t)]!, w = lora.base[t.baseName]!, merged = effective[t.effectiveName]!
            if t.isEmbedding {
                for id in [0, 7, 19] {
                    let unmerged = (0..<w.shape[1]).map { d in
                        w.data[id * w.shape[1] + d] + lora.settings.scale * (0..<3).reduce(0) { $0 + b.data[d * 3 + $1] * a.data[$1 * w.shape[0] + id] }
                    }
                    worst = max(worst, Tensor(shape: [unmerged.count], data: unmerged).maxAbsDifference(Tensor(shape: [unmerged.count], data: Array(merged.row(id)))))
                }
            } else {
                let x = Tensor.randomNormal([5, w.shape[1]], generator: &generator)
                let low = Linear.forward(Linear.forward(x, weight: a), weight: b)          // (x·Aᵀ)·Bᵀ
                var unmerged = Linear.forward(x, weight: w)
                for i in 0..<unmerged.count { unmerged.data[i] += lora.settings.scale * low.data[i] }
                worst = max(worst, unmerged.maxAbsDifference(Linear.forward(x, weight: merged)))
            }
        }
        print("LoRA merged vs unmerged modules: max |Δ| = \(worst) (tolerance 1e-5)")
        XCTAssertLessThan(worst, 1e-5)
    }

    /// dA and dB from the effective weights' gradient against central differences of the loss, along a
    /// random direction per trainable tensor: (L(θ + hD) − L(θ − hD)) / 2h ≈ ⟨∇L, D⟩.
    func testFactorGradientsMatchFiniteDifferences() {
        for tied in [true, false] {
            let (lora, p, c) = Self.trainedLoRA(tied: tied)
            var untied = c
            untied.tieWordEmbeddings = false
            let objective = LoRAObjective(model: lora, inner: MambaObjective(configuration: untied))
            let ids = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
            let example = TrainingExample(ids: ids, targets: MambaGradients.nextTokenTargets(ids))
            var generator = SeededGenerator(seed: 0)
            let (_, g) = objective.lossAndGradients(p, example: example, generator: &generator)
            XCTAssertEqual(Set(g.keys), Set(p.keys))
            let worst = GradientCheck.worstDirectionalDifference(objective, p, gradients: g, example: example, directions: &generator)
            print("LoRA (tied \(tied)) gradients vs central differences: worst relative |Δ| = \(worst) (tolerance 1e-3; Float32 losses, h = 1e-3)")
            XCTAssertLessThan(worst, 1e-3)
        }
    }

    /// The adapter as written loads with `PEFTAdapter` and merges (as peft's merge_and_unload) into exactly
    /// the effective weights (untied base: PEFT's merge of a tied head adds both deltas into one matrix).
    func testWrittenAdapterRoundTripsThroughThePEFTLoader() throws {
        let (lora, p, c) = Self.trainedLoRA(tied: false)
        let directory = TinyTraining.scratchDirectory("lora")
        defer { try? FileManager.default.removeItem(at: directory) }
        try LoRAAdapterWriter.write(p, model: lora, baseModel: nil, to: directory)
        let adapter = try PEFTAdapter(directory)
        XCTAssertEqual(adapter.configuration.rank, 3)
        XCTAssertEqual(adapter.configuration.alpha, 6)
        XCTAssertEqual(Set(adapter.file.names), Set(p.keys))
        for name in p.keys { XCTAssertEqual(try adapter.file.tensor(name), p[name], name) }
        // Merge into the base through the loader (a base directory written for it).
        let base = directory.appendingPathComponent("base")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let config = try JSONEncoder().encode(c)
        try config.write(to: base.appendingPathComponent("config.json"))
        try SafetensorsWriter.write(lora.base.keys.sorted().map { ($0, .float32(lora.base[$0]!)) }, to: base.appendingPathComponent("model.safetensors"))
        let merged = try WeightMap.load(from: ModelDirectory(base), adapter: adapter, expected: MambaModel.expectedWeights(c),
                                        sanitize: MambaModel.sanitize(c))
        let effective = lora.effective(p)
        var worst: Float = 0
        for (name, tensor) in merged.tensors {
            let e = effective[name]!.reshaped(tensor.shape)
            worst = max(worst, tensor.maxAbsDifference(e))
        }
        print("adapter written, loaded and merged by PEFTAdapter vs the effective weights: max |Δ| = \(worst) (tolerance 1e-6)")
        XCTAssertLessThan(worst, 1e-6)
    }
}
