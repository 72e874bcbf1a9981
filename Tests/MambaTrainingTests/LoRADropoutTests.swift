import XCTest
import MambaLM
@testable import MambaTraining
import TensorCore
import TestSupport

/// LoRA dropout: the Linear targets trained through their branches (`LinearAdapter`). Without dropout the
/// branches are the slow twin of the merged weights; with it, the gradients agree with central differences of
/// the same masked loss, the masks have the asked statistics, and recomputing a layer redraws the same mask.
/// (The gradients against peft's own dropout forward are in LoRADropoutFixtureTests.)
final class LoRADropoutTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    enum Family { case mamba, mamba2 }

    /// A LoRA objective over a fixture model, merged or through branches, with every trainable tensor moved off
    /// PEFT's zero-delta start (seeded).
    static func lora(_ fixture: String, _ family: Family = .mamba, remamba: Bool = false, settings: LoRASettings,
                     branched: Bool = true, recomputeLayers: Bool = false) throws -> (LoRAObjective, NamedTensors) {
        let directory = try ModelDirectory(fixtures.appendingPathComponent(fixture))
        var options = TrainingOptions(scanChunk: 4, headRowsPerChunk: 8, recomputeLayers: recomputeLayers)
        options.adapters = AdapterOptions(scale: settings.scale, dropout: settings.dropout)
        let base: NamedTensors, adaptable: [String], objective: (Bool) -> any TrainingObjective
        switch family {
        case .mamba: (base, _, adaptable, objective) = try TrainingTask.model(MambaParameters.self, directory, remamba: remamba, options: options)
        case .mamba2: (base, _, adaptable, objective) = try TrainingTask.model(Mamba2Parameters.self, directory, remamba: remamba, options: options)
        }
        let model = LoRAModel(base: base, settings: settings, branchable: branched ? Set(adaptable) : [])
        var generator = SeededGenerator(seed: 5)
        var p = model.initialParameters(generator: &generator)
        for name in p.keys.sorted() { p[name] = Tensor.randomNormal(p[name]!.shape, std: 0.1, generator: &generator) }
        return (LoRAObjective(model: model, inner: objective(model.tiedHead)), p)
    }

    static func settings(dropout: Double, targets: [String] = LoRASettings().targetModules) -> LoRASettings {
        var s = LoRASettings(rank: 3, alpha: 6)
        (s.dropout, s.targetModules) = (dropout, targets)
        return s
    }

    static let allMamba1Linears = ["in_proj", "x_proj", "dt_proj", "out_proj", "embeddings", "lm_head"]

    /// A prompt of 30 tokens and a response of 6 (ReMamba compresses the prompt's first 10%).
    static func example(vocabulary: Int) -> TrainingExample {
        var generator = SeededGenerator(seed: 21)
        return InstructionExamples.example(prompt: (0..<30).map { _ in Int(generator.next() % UInt64(vocabulary)) },
                                           response: [5, 6, 7, 8, 9, 10], endOfSequence: 0, maxLength: 64)
    }

    static func lossAndGradients(_ objective: LoRAObjective, _ p: NamedTensors, _ example: TrainingExample,
                                 seed: UInt64 = 0) -> (Double, NamedTensors) {
        var generator = SeededGenerator(seed: seed)
        let (loss, g) = objective.lossAndGradients(p, example: example, generator: &generator)
        return (loss, g)
    }

    /// max over tensors of max |a − b| / (largest |b| of that tensor).
    static func worstRelativeDifference(_ a: NamedTensors, _ b: NamedTensors) -> Float {
        a.keys.reduce(0) { worst, name in
            let scale = max(b[name]!.data.map(abs).max() ?? 0, 1e-12)
            return max(worst, a[name]!.maxAbsDifference(b[name]!) / scale)
        }
    }

    /// Slow twin: without dropout, branches beside the frozen weights give the merged model's loss and
    /// gradients (Mamba-1 with all four Linear targets, tied and untied; Mamba-2; ReMamba's two stages).
    func testBranchesWithoutDropoutEqualTheMergedModel() throws {
        let cases: [(String, String, Family, Bool, [String])] = [
            ("Mamba-1 untied, all Linear targets", "lora-training/base_untied", .mamba, false, Self.allMamba1Linears),
            ("Mamba-1 tied", "lora-training/base_tied", .mamba, false, LoRASettings().targetModules),
            ("Mamba-2", "mamba2/tiny_a", .mamba2, false, LoRASettings().targetModules),
            ("ReMamba", "lora-training/base_untied", .mamba, true, Self.allMamba1Linears),
        ]
        for (label, fixture, family, remamba, targets) in cases {
            let settings = Self.settings(dropout: 0, targets: targets)
            let (merged, p) = try Self.lora(fixture, family, remamba: remamba, settings: settings, branched: false)
            let (branched, q) = try Self.lora(fixture, family, remamba: remamba, settings: settings)
            XCTAssertEqual(p, q)
            XCTAssertFalse(branched.model.branchModules.isEmpty)
            let example = Self.example(vocabulary: 64)
            let (l1, g1) = Self.lossAndGradients(merged, p, example), (l2, g2) = Self.lossAndGradients(branched, q, example)
            XCTAssertEqual(Set(g1.keys), Set(g2.keys))
            let worst = Self.worstRelativeDifference(g2, g1)
            print("\(label): branches vs merged without dropout: loss \(l1) vs \(l2), worst gradient |Δ|/scale \(worst) (tolerance 1e-4)")
            XCTAssertEqual(l1, l2, accuracy: 1e-5 * abs(l1), label)
            XCTAssertLessThan(worst, 1e-4, label)
        }
    }

    /// With dropout the gradients are those of the masked loss: central differences with the same masks.
    func testDropoutGradientsMatchFiniteDifferences() throws {
        for (label, remamba) in [("Mamba-1", false), ("ReMamba", true)] {
            let (objective, p) = try Self.lora("lora-training/base_untied", remamba: remamba,
                                               settings: Self.settings(dropout: 0.3, targets: Self.allMamba1Linears))
            let example = Self.example(vocabulary: 64)
            let (_, g) = Self.lossAndGradients(objective, p, example, seed: 9)
            var directions = SeededGenerator(seed: 4)
            let worst = GradientCheck.worstDirectionalDifference(objective, p, gradients: g, example: example, objectiveSeed: 9,
                                                                 directions: &directions)
            print("\(label) LoRA with dropout 0.3 vs central differences: worst relative |Δ| = \(worst) (tolerance 1e-3; Float32 losses, h = 1e-3)")
            XCTAssertLessThan(worst, 1e-3, label)
        }
    }

    /// Dropout changes the loss, a new example draws new masks, and recomputing the layers in the backward
    /// (`recomputeLayers`) redraws exactly the masks of the forward.
    func testMasksAreDrawnPerExampleAndRedrawnAlikeWhenRecomputed() throws {
        let settings = Self.settings(dropout: 0.3, targets: Self.allMamba1Linears)
        let (plain, p) = try Self.lora("lora-training/base_untied", settings: Self.settings(dropout: 0, targets: Self.allMamba1Linears))
        let (kept, _) = try Self.lora("lora-training/base_untied", settings: settings)
        let (recomputed, _) = try Self.lora("lora-training/base_untied", settings: settings, recomputeLayers: true)
        let example = Self.example(vocabulary: 64)
        let (l0, _) = Self.lossAndGradients(plain, p, example)
        let (l1, g1) = Self.lossAndGradients(kept, p, example, seed: 1)
        let (l2, g2) = Self.lossAndGradients(recomputed, p, example, seed: 1)
        let (l3, _) = Self.lossAndGradients(kept, p, example, seed: 2)
        print("losses: no dropout \(l0), dropout seed 1 \(l1) (recomputed layers \(l2)), seed 2 \(l3)")
        XCTAssertNotEqual(l0, l1)
        XCTAssertNotEqual(l1, l3, "another pass seed, other masks")
        XCTAssertEqual(l1, l2)
        XCTAssertEqual(Self.worstRelativeDifference(g2, g1), 0, "the recomputed blocks drop the same elements")
    }

    /// p of the elements dropped, the rest scaled by 1/(1 − p); modules and passes draw different masks.
    func testMaskStatistics() {
        let ones = Tensor(shape: [400, 250], data: [Float](repeating: 1, count: 100_000))
        let mask = DropoutMask(probability: 0.25, passSeed: 7, module: "backbone.layers.0.mixer.in_proj")
        let a = mask.apply(ones, firstRow: 0).data
        let dropped = Double(a.filter { $0 == 0 }.count) / Double(a.count)
        print("dropped fraction \(dropped) of 100000 (p = 0.25, 3σ = 0.0041)")
        XCTAssertEqual(dropped, 0.25, accuracy: 0.0041)
        XCTAssertTrue(a.allSatisfy { $0 == 0 || $0 == Float(1 / 0.75) })
        XCTAssertEqual(Array(mask.apply(ones.rows(100..<400), firstRow: 100).data), Array(a[25_000...]), "rows are addressed absolutely")
        func agreement(_ other: DropoutMask) -> Double {
            let b = other.apply(ones, firstRow: 0).data
            return Double(zip(a, b).filter { $0 == $1 }.count) / Double(a.count)
        }
        // Independent masks agree on p² + (1 − p)² = 0.625 of the elements.
        let otherModule = agreement(DropoutMask(probability: 0.25, passSeed: 7, module: "backbone.layers.1.mixer.in_proj"))
        let otherPass = agreement(DropoutMask(probability: 0.25, passSeed: DropoutMask.nextPass(7), module: "backbone.layers.0.mixer.in_proj"))
        print("agreement with another module's mask \(otherModule), another pass's \(otherPass) (independent: 0.625)")
        XCTAssertEqual(otherModule, 0.625, accuracy: 0.01)
        XCTAssertEqual(otherPass, 0.625, accuracy: 0.01)
        XCTAssertEqual(DropoutMask(probability: 0, passSeed: 7, module: "lm_head").apply(ones, firstRow: 0), ones)
    }

    /// A target the model does not have, and dropout on a module without a branch, are refused by name.
    func testUnusableTargetsAreRefused() throws {
        let directory = try ModelDirectory(Self.fixtures.appendingPathComponent("lora-training/base_untied"))
        XCTAssertThrowsError(try TrainingTask(directory: directory, lora: Self.settings(dropout: 0, targets: ["in_prj"]),
                                              remamba: false, merge: false, options: TrainingOptions(), seed: 0)) {
            XCTAssertTrue("\($0)".contains("in_prj"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingTask(directory: directory, lora: Self.settings(dropout: 0.1, targets: ["in_proj", "Q_proj.0"]),
                                              remamba: true, merge: false, options: TrainingOptions(), seed: 0)) {
            XCTAssertTrue("\($0)".contains("backbone.Q_proj.0"), "\($0)")
        }
        XCTAssertNoThrow(try TrainingTask(directory: directory, lora: Self.settings(dropout: 0, targets: ["in_proj", "Q_proj.0"]),
                                          remamba: true, merge: false, options: TrainingOptions(), seed: 0), "merged: any Linear")
    }
}
