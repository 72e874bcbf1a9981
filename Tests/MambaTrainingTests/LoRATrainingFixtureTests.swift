import XCTest
import MambaLM
@testable import MambaTraining
import TensorCore

/// Adapters written by `remamba train` (Tests/Fixtures/lora-training, scripts/fixtures/lora_training.py; Mamba and
/// Llama) loaded by Python peft: peft's logits (`PeftModel.from_pretrained`, unmerged forward) against Swift's
/// forward of the same base + adapter. Tolerance 1e-4: two float32 forwards of a 2-layer model whose logits
/// are O(1) differ by ~1e-6; a missing or misplaced tensor changes them by up to ~1 (manifest.json).
final class LoRATrainingFixtureTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/lora-training")

    func testPEFTLoadsTheSwiftAdapterAndAgrees() throws {
        for variant in ["tied", "untied"] {
            let base = try MambaParameters(directory: ModelDirectory(Self.directory.appendingPathComponent("base_\(variant)")))
            let adapter = try PEFTAdapter(Self.directory.appendingPathComponent("adapter_\(variant)"))
            var trainable: NamedTensors = [:]
            for name in adapter.file.names { trainable[name] = try adapter.file.tensor(name) }
            let lora = LoRAModel(base: base.namedTensors,
                                 settings: LoRASettings(rank: adapter.configuration.rank, alpha: adapter.configuration.alpha))
            var generator = SeededGenerator(seed: 0)
            XCTAssertEqual(Set(lora.initialParameters(generator: &generator).keys), Set(trainable.keys), "\(variant): adapter tensors")
            var configuration = base.configuration
            configuration.tieWordEmbeddings = false
            let effective = MambaParameters(weights: WeightMap(tensors: lora.effective(trainable)), configuration: configuration)
            let golden = try SafetensorsFile(path: Self.directory.appendingPathComponent("\(variant).outputs.safetensors").path)
            let logits = MambaGradients.logits(effective, ids: try golden.integers("input_ids"))
            let difference = logits.maxAbsDifference(try golden.tensor("logits"))
            print("\(variant): Swift-written adapter, peft logits vs Swift's: max |Δ| = \(difference) (tolerance 1e-4)")
            XCTAssertLessThan(difference, 1e-4)
        }
    }

    /// `--merge`: the merged model directory `TrainingTask` writes loads as a plain model and gives peft's
    /// unmerged logits (a tied base is written untied: PEFT's own merge would add both deltas to one matrix).
    func testMergedModelDirectoryGivesPEFTLogits() throws {
        for variant in ["tied", "untied"] {
            let adapter = try PEFTAdapter(Self.directory.appendingPathComponent("adapter_\(variant)"))
            var trainable: NamedTensors = [:]
            for name in adapter.file.names { trainable[name] = try adapter.file.tensor(name) }
            let task = try TrainingTask(directory: ModelDirectory(Self.directory.appendingPathComponent("base_\(variant)")),
                                        lora: LoRASettings(rank: adapter.configuration.rank, alpha: adapter.configuration.alpha),
                                        remamba: false, merge: true, options: TrainingOptions(), seed: 0)
            let out = TinyTraining.scratchDirectory("merge")
            defer { try? FileManager.default.removeItem(at: out) }
            try task.export(trainable, out)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("adapter_model.safetensors").path))
            let merged = try MambaParameters(directory: ModelDirectory(out.appendingPathComponent("merged")))
            XCTAssertFalse(merged.configuration.tieWordEmbeddings)
            let golden = try SafetensorsFile(path: Self.directory.appendingPathComponent("\(variant).outputs.safetensors").path)
            let difference = MambaGradients.logits(merged, ids: try golden.integers("input_ids")).maxAbsDifference(try golden.tensor("logits"))
            print("\(variant): merged model directory vs peft logits: max |Δ| = \(difference) (tolerance 1e-4)")
            XCTAssertLessThan(difference, 1e-4)
        }
    }

    /// The same round trip for Llama (`base_llama`, GQA with attention biases, tied; the adapter trained by
    /// `remamba train` with Llama's default targets q/k/v/o_proj and gate/up/down_proj): peft's unmerged logits
    /// against `--adapter`'s merge at load, and against the `--merge` model directory (written untied).
    func testLlamaAdapterRoundTrip() throws {
        let baseURL = Self.directory.appendingPathComponent("base_llama"), adapterURL = Self.directory.appendingPathComponent("adapter_llama")
        let adapter = try PEFTAdapter(adapterURL)
        let golden = try SafetensorsFile(path: Self.directory.appendingPathComponent("llama.outputs.safetensors").path)
        let ids = try golden.integers("input_ids"), expected = try golden.tensor("logits")
        let loaded = try XCTUnwrap(ModelLoader.load(ModelDirectory(baseURL), adapter: adapter) as? LlamaModel)
        let atLoad = try loaded.forward(ids).maxAbsDifference(expected)
        print("llama: Swift-written adapter, peft logits vs --adapter's: max |Δ| = \(atLoad) (tolerance 1e-4)")
        XCTAssertLessThan(atLoad, 1e-4)

        var trainable: NamedTensors = [:]
        for name in adapter.file.names { trainable[name] = try adapter.file.tensor(name) }
        var settings = LoRASettings(rank: adapter.configuration.rank, alpha: adapter.configuration.alpha)
        settings.targetModules = LoRASettings.llamaTargetModules
        let task = try TrainingTask(directory: ModelDirectory(baseURL), lora: settings, remamba: false, merge: true,
                                    options: TrainingOptions(), seed: 0)
        XCTAssertEqual(Set(task.initialParameters.keys), Set(trainable.keys), "llama: adapter tensors")
        let out = TinyTraining.scratchDirectory("merge-llama")
        defer { try? FileManager.default.removeItem(at: out) }
        try task.export(trainable, out)
        let merged = try LlamaModel(directory: ModelDirectory(out.appendingPathComponent("merged")))
        XCTAssertFalse(merged.configuration.tieWordEmbeddings)
        let difference = try merged.forward(ids).maxAbsDifference(expected)
        print("llama: merged model directory vs peft logits: max |Δ| = \(difference) (tolerance 1e-4)")
        XCTAssertLessThan(difference, 1e-4)
    }
}
