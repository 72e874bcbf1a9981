import XCTest
import Foundation
import MambaLM
@testable import MambaTraining
import TensorCore

/// The Llama model's loss and gradients against PyTorch (transformers `LlamaForCausalLM`,
/// `model(ids, labels=ids).loss.backward()` in float64: Tests/Fixtures/llama-gradients, written by
/// scripts/fixtures/llama_gradients.py): GQA with attention and MLP biases and linear RoPE scaling (untied,
/// vocab 131), MHA with tied embeddings (vocab 101), MQA with dynamic RoPE past max_position_embeddings (vocab 77).
///
/// Tolerances, as MambaGradientTests: loss 1e-5 absolute; each gradient max |Δ| ≤ 2e-5·max|g| + 1e-8.
/// PyTorch's own float32 gradients are up to 8.5e-6 of the scale from the float64 goldens (full/manifest.json):
/// the softmax over 150 keys and the residual sums round in Float32 either way, and ours sum in another order
/// (BLAS, per-head recomputed probabilities), so errors of that size are expected and 2e-5 leaves a small
/// margin, while a wrong term (a RoPE sign, a head mapped to the wrong key/value head, a missing residual)
/// gives differences of order the gradient itself.
final class LlamaGradientTests: XCTestCase {
    static let fixtures = MambaGradientTests.fixtures.appendingPathComponent("llama-gradients")
    static let models = ["gqa_bias", "mha_tied", "mqa_dynamic"]

    static func directory(_ name: String) throws -> ModelDirectory {
        try ModelDirectory(fixtures.appendingPathComponent("models/\(name)"))
    }

    func testGradientsMatchPyTorch() throws {
        var check = MambaGradientTests.goldenGradients
        for name in Self.models {
            let p = try LlamaParameters(directory: Self.directory(name))
            let golden = try SafetensorsFile(path: Self.fixtures.appendingPathComponent("full/\(name).safetensors").path)
            for length in [40, 150] {
                let ids = try golden.integers("input_ids.L\(length)")
                let (loss, g) = LlamaGradients.lossAndGradients(p, ids: ids, options: TrainingOptions(headRowsPerChunk: 64))
                try check.check("\(name) L=\(length)", loss: loss, named: g.named, golden: golden, lossName: "loss.L\(length)",
                                prefix: "grad.L\(length).")
            }
        }
        check.printWorst("Llama gradients vs PyTorch")
    }

    /// The training forward (whole sequence, no cache) is the inference forward: `LlamaModel`'s logits bit for bit
    /// (the same ops in the same order; the attention reads the same per-head key arrays as the cache holds).
    func testTrainingForwardEqualsInferenceForward() throws {
        for name in Self.models {
            let directory = try Self.directory(name)
            let model = try LlamaModel(directory: directory), p = try LlamaParameters(directory: directory)
            let ids = (0..<70).map { ($0 * 37 + 5) % model.vocabularySize }
            let (training, inference) = (LlamaGradients.logits(p, ids: ids), try model.forward(ids))
            print("\(name): training vs inference forward max |Δlogits| = \(training.maxAbsDifference(inference)) (tolerance 0)")
            XCTAssertEqual(training.data, inference.data, name)
        }
    }

    /// Recomputing each layer's tape in the backward (activation checkpointing) changes no arithmetic.
    func testRecomputedLayersGiveIdenticalGradients() throws {
        let p = try LlamaParameters(directory: Self.directory("gqa_bias"))
        let ids = (0..<30).map { ($0 * 11 + 3) % 131 }
        let kept = LlamaGradients.lossAndGradients(p, ids: ids)
        let recomputed = LlamaGradients.lossAndGradients(p, ids: ids, options: TrainingOptions(recomputeLayers: true))
        XCTAssertEqual(kept.loss, recomputed.loss)
        for ((name, a), (_, b)) in zip(kept.gradients.named, recomputed.gradients.named) { XCTAssertEqual(a.data, b.data, name) }
    }

    /// LoRA through PEFT (Tests/Fixtures/llama-gradients/lora: peft's LoraConfig with random lora_A and lora_B, no
    /// dropout): the loss and the gradients of every lora_A / lora_B against peft's float64 ones, with the targets
    /// trained as branches (`AdaptedLinear`) and, the slow twin, merged into W (the factor gradients then come from
    /// dW). Tolerance 5e-5 of the scale: the random factors (std 0.3, scale alpha/r = 2) change the logits by ≥ 9 and
    /// sharpen attention, and PyTorch's own float32 gradients are already 1.5e-5 of the scale from its float64 ones
    /// (lora/manifest.json; measured here: ≤ 2.7e-5), while a wrong scale, factor order or module gives O(1).
    func testLoRAGradientsMatchPEFT() throws {
        var check = GoldenGradients(relativeTolerance: 5e-5, toleranceText: "5e-5")
        for (adapterName, base) in [("gqa_bias_all", "gqa_bias"), ("mha_tied_qv", "mha_tied")] {
            let directory = try Self.directory(base)
            let adapter = try PEFTAdapter(Self.fixtures.appendingPathComponent("lora/\(adapterName)"))
            let trainable = try Dictionary(uniqueKeysWithValues: adapter.file.names.map { ($0, try adapter.file.tensor($0)) })
            let golden = try SafetensorsFile(path: Self.fixtures.appendingPathComponent("lora/\(adapterName).safetensors").path)
            let ids = try golden.integers("input_ids.L40")
            var settings = LoRASettings(rank: adapter.configuration.rank, alpha: adapter.configuration.alpha)
            guard case .names(let targets)? = adapter.configuration.targetModules else { return XCTFail("\(adapterName): target names") }
            settings.targetModules = targets
            settings.modulesToSave = []
            let base = try LlamaParameters(directory: directory)
            for branches in [true, false] {
                let model = LoRAModel(base: base.namedTensors, settings: settings, branchable: branches ? Set(base.adaptableModules) : [],
                                      embeddingsName: LlamaParameters.embeddingsName)
                XCTAssertEqual(model.branchModules.count, branches ? targets.count * 2 : 0, adapterName)
                let configuration = model.tiedHead ? LlamaParameters.untied(base.configuration) : base.configuration
                let options = TrainingOptions(adapters: AdapterOptions(scale: settings.scale))   // as TrainingTask sets them
                let objective = LoRAObjective(model: model, inner: LlamaObjective(configuration: configuration, options: options))
                var generator = SeededGenerator(seed: 0)
                let (loss, gradients) = objective.lossAndGradients(trainable, example: TrainingExample(ids: ids, targets: MambaGradients.nextTokenTargets(ids)),
                                                                   generator: &generator)
                try check.check("\(adapterName) \(branches ? "branches" : "merged")", loss: loss, named: gradients.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                golden: golden, lossName: "loss.L40", prefix: "grad.L40.")
            }
        }
        check.printWorst("Llama LoRA gradients vs PEFT")
    }
}
