import XCTest
import Foundation
import MambaLM
@testable import MambaTraining
import TensorCore

/// LoRA dropout against peft itself (Tests/Fixtures/lora-dropout, scripts/fixtures/lora_dropout.py): peft's
/// LoRA models in float64 with lora_dropout 0.25, whose dropout modules apply the masks of `DropoutMask`, give
/// the loss and the gradient of every LoRA factor; the Swift branches (Float32) must give the same.
/// Tolerance 2e-5·max|g| per tensor: Float32 rounding through two layers and the LoRA products, as the other
/// golden-gradient tests (their worst is ≈ 3e-6 of scale).
final class LoRADropoutFixtureTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/lora-dropout")

    struct Manifest: Decodable {
        let p: Double
        let r: Int
        let lora_alpha: Double
        let pass_seed: UInt64
        let saved_mask: String
        let cases: [String: Case]
        struct Case: Decodable { let target_modules: [String] }
    }

    func testGradientsEqualPEFTsWithTheSameMasks() throws {
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: Self.folder.appendingPathComponent("manifest.json")))
        var golden = GoldenGradients(relativeTolerance: 2e-5, toleranceText: "2e-5")
        for (name, entry) in manifest.cases.sorted(by: { $0.key < $1.key }) {
            let directory = try ModelDirectory(Self.folder.appendingPathComponent(name))
            let reference = try SafetensorsFile(path: Self.folder.appendingPathComponent(name).appendingPathComponent("reference.safetensors").path)
            var settings = LoRASettings(rank: manifest.r, alpha: manifest.lora_alpha)
            (settings.dropout, settings.targetModules, settings.modulesToSave) = (manifest.p, entry.target_modules, [])
            let adapters = AdapterOptions(scale: settings.scale, dropout: manifest.p)
            var trainable: NamedTensors = [:]
            for key in reference.names where key.hasPrefix("adapter.") { trainable[String(key.dropFirst("adapter.".count))] = try reference.tensor(key) }
            let ids = try reference.integers("input_ids")

            let (loss, gradients): (Double, NamedTensors)
            switch directory.configuration.architecture {
            case .mamba:
                (loss, gradients) = try Self.lossAndGradients(MambaParameters.self, directory, settings, adapters, trainable,
                                                               ids: ids, passSeed: manifest.pass_seed)
            case .mamba2:
                (loss, gradients) = try Self.lossAndGradients(Mamba2Parameters.self, directory, settings, adapters, trainable,
                                                               ids: ids, passSeed: manifest.pass_seed)
            case .llama:
                XCTFail("\(name): LoRA dropout fixtures are Mamba models")
                continue
            }
            try golden.check("LoRA dropout \(manifest.p), \(name)", loss: loss, named: gradients.sorted { $0.key < $1.key },
                             golden: reference, lossName: "loss", prefix: "grad.")

            // The mask itself, element for element.
            let mask = try reference.tensor("mask." + manifest.saved_mask)
            let ones = Tensor(shape: mask.shape, data: [Float](repeating: 1, count: mask.count))
            let mine = DropoutMask(probability: manifest.p, passSeed: manifest.pass_seed, module: manifest.saved_mask).apply(ones, firstRow: 0)
            XCTAssertEqual(mine, mask, "\(name): the mask of \(manifest.saved_mask)")
        }
        print("LoRA dropout vs peft: worst \(golden.worst.relative) of scale at \(golden.worst.label)")
    }

    /// The LoRA model of `directory` with `trainable`, through its branches with the masks of `passSeed`:
    /// the mean next-token loss of `ids` and the gradients of the trainable tensors (by PEFT name).
    static func lossAndGradients<Base: TrainableBackbone>(_: Base.Type, _ directory: ModelDirectory, _ settings: LoRASettings,
                                                          _ adapters: AdapterOptions, _ trainable: NamedTensors, ids: [Int],
                                                          passSeed: UInt64) throws -> (Double, NamedTensors) {
        let base = try Base(directory: directory)
        let model = LoRAModel(base: base.namedTensors, settings: settings, branchable: Set(base.adaptableModules))
        var generator = SeededGenerator(seed: 0)
        XCTAssertEqual(Set(model.initialParameters(generator: &generator).keys), Set(trainable.keys))
        let w = WeightMap(tensors: model.effective(trainable))
        var p = Base(weights: w, configuration: Base.untied(base.configuration))    // see LoRAModel: untied
        p.attachAdapters(from: w, options: adapters, passSeed: passSeed)
        let (loss, g) = MambaGradients.lossAndGradients(of: p, ids: ids, targets: nil, options: TrainingOptions())
        return (loss, model.gradients(trainable, effectiveGradients: g.namedTensors))
    }
}
