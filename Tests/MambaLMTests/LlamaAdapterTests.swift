import XCTest
import Foundation
@testable import MambaLM
import TensorCore

/// `--adapter` on Llama: PEFT LoRA adapters made by `peft` (Tests/Fixtures/llama-gradients/lora, written by
/// scripts/fixtures/llama_gradients.py: random lora_A and lora_B on all seven Linears of a GQA model with biases,
/// and on q_proj/v_proj of a tied MHA model), merged at load as `merge_and_unload` does, give the logits of
/// transformers + peft's unmerged forward (float64, stored as float32) within 1e-4: logits of size ~10 whose
/// Float32 rounding is ~1e-6, the merge adding one more rounding per weight (PyTorch's own float32 is 4e-5 from
/// the float64 logits here, lora/manifest.json); a delta applied with the wrong scale or transposed is off by
/// the adapter's effect, ≥ 9 (the same manifest).
final class LlamaAdapterTests: XCTestCase {
    static let folder = Fixtures.root.appendingPathComponent("llama-gradients")

    func testPEFTAdaptersGivePEFTLogits() throws {
        for (adapter, base) in [("gqa_bias_all", "gqa_bias"), ("mha_tied_qv", "mha_tied")] {
            let directory = try ModelDirectory(Self.folder.appendingPathComponent("models/\(base)"))
            let peft = try PEFTAdapter(Self.folder.appendingPathComponent("lora/\(adapter)"))
            let model = try XCTUnwrap(ModelLoader.load(directory, adapter: peft) as? LlamaModel)
            let expected = try SafetensorsFile(path: Self.folder.appendingPathComponent("lora/\(adapter).safetensors").path)
            let ids = try expected.integers("input_ids.L40")
            let d = try model.forward(ids).maxAbsDifference(expected.tensor("logits.L40"))
            print("\(adapter): Llama + PEFT adapter vs transformers + peft max |Δlogits| = \(d) (tolerance 1e-4)")
            XCTAssertLessThanOrEqual(d, 1e-4, adapter)
        }
    }
}
