import XCTest
import Foundation
@testable import MambaLM
import TensorCore

/// Models whose matrices are stored as F16, BF16 or Q8_0 (`--dtype`, `remamba quantize`): the logits
/// against the same checkpoint in Float32, a quantized directory written and read back, and the errors.
final class StoredWeightTests: XCTestCase {
    let ids = [5, 9, 2, 7, 1, 4, 8, 3, 6, 11, 13, 17, 19, 23, 29, 31]

    /// Relative to the largest |logit|. The weights are rounded, not the arithmetic: F16 keeps 11 bits
    /// (≤ 2⁻¹² ≈ 2.4e-4 of each weight), BF16 8 bits (≤ 2e-3), Q8_0 ±½ step of max|block|/127, i.e. ≤ 4e-3
    /// of the block's largest weight and ~1% of a typical one in a Gaussian block. The errors pass through
    /// two layers and the lm_head: bounds a few times the per-weight error (measured: F16 9e-4, BF16 6.5e-3,
    /// Q8_0 3.0e-2 with its activations quantized too).
    static let tolerance: [WeightType: Float] = [.f16: 3e-3, .bf16: 2e-2, .q8_0: 5e-2]

    func testEveryTypeStaysCloseToFloat32() throws {
        for family in ["mamba1", "mamba2"] {
            let directory = try ModelDirectory(Fixtures.root.appendingPathComponent("\(family)/tiny_a"))
            let reference = try XCTUnwrap(ModelLoader.load(directory) as? any Backbone)
            let expected = try reference.forward(ids)
            for type in [WeightType.f16, .bf16, .q8_0] {
                let model = try XCTUnwrap(ModelLoader.load(directory, dtype: type) as? any Backbone)
                XCTAssertEqual(model.embeddingTable.type, type)
                let logits = try model.forward(ids)
                let difference = logits.maxAbsDifference(expected)
                let scale = expected.data.map(abs).max()!
                let agreement = zip(argmaxRows(logits), argmaxRows(expected)).filter { $0 == $1 }.count
                print("\(family) \(type): max |Δlogit| = \(difference) (\(difference / scale) of the largest), "
                      + "argmax agrees at \(agreement)/\(ids.count) positions")
                XCTAssertLessThanOrEqual(difference / scale, Self.tolerance[type]!, "\(family) \(type)")
                XCTAssertLessThan(model.weightBytes, reference.weightBytes, "\(family) \(type) holds fewer bytes")
            }
        }
    }

    /// A Float32 checkpoint is used in place: its streamed matrices are views of the mapped file.
    func testFloat32CheckpointIsNotCopied() throws {
        let directory = try ModelDirectory(Fixtures.mamba1("tiny_a"))
        let weights = try ModelLoader.storedWeights(directory)
        let w = weights.weight("backbone.layers.0.mixer.in_proj.weight")
        XCTAssertEqual(w.type, .f32)
        XCTAssertTrue(w.isView, "in_proj was copied out of the mapped file")
        XCTAssertFalse(Weight(Tensor(zeros: [2, 32]), as: .q8_0).isView)
    }

    /// What `remamba quantize --format q8` writes, read back: identical to converting at load.
    func testQuantizedDirectoryReadsBackAsConvertedAtLoad() throws {
        let scratch = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        for family in ["mamba1", "mamba2"] {
            let source = Fixtures.root.appendingPathComponent("\(family)/tiny_a")
            let out = scratch.appendingPathComponent(family)
            try Self.writeQuantized(source, to: out)
            let written = try ModelDirectory(out)
            XCTAssertTrue(written.tensorFiles.keys.contains("backbone.layers.0.mixer.in_proj.weight.q8_0"))
            let fromFile = try XCTUnwrap(ModelLoader.load(written) as? any Backbone)
            let atLoad = try XCTUnwrap(ModelLoader.load(ModelDirectory(source), dtype: .q8_0) as? any Backbone)
            XCTAssertEqual(fromFile.embeddingTable.type, .q8_0)
            XCTAssertEqual(try fromFile.forward(ids), try atLoad.forward(ids), family)
        }
    }

    func testBrokenQuantizedDirectoriesAreRefusedByName() throws {
        let scratch = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("q8")
        try Self.writeQuantized(Fixtures.mamba1("tiny_a"), to: out)
        let weights = out.appendingPathComponent("model.safetensors")
        let file = try SafetensorsFile(path: weights.path)
        let plain = file.names.filter { !$0.hasSuffix(Q8Names.scalesSuffix) && !$0.hasSuffix(Q8Names.valuesSuffix) }
        let kept = try plain.map { name in
            (name, SafetensorsWriter.Value.weight(try file.weight(name)))
        }
        // Values without their scales, then scales without their values: each refused by its name.
        let values = ("backbone.layers.0.mixer.in_proj.weight.q8_0", SafetensorsWriter.Value.weight(Weight(Tensor(zeros: [256, 64]), as: .f16)))
        let scales = ("backbone.layers.0.mixer.in_proj.weight.q8_0_scales", SafetensorsWriter.Value.weight(Weight(Tensor(zeros: [256, 2]), as: .f16)))
        for (broken, name) in [([values], "in_proj.weight.q8_0_scales"), ([scales], "in_proj.weight.q8_0_scales")] {
            try SafetensorsWriter.write(kept + broken, to: weights)
            XCTAssertThrowsError(try ModelLoader.load(ModelDirectory(out))) { error in
                print("expected error: \(error)")
                XCTAssertTrue("\(error)".contains(name), "\(error)")
            }
        }
        // An unknown quantization method in config.json.
        let config = out.appendingPathComponent("config.json")
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any])
        object["quantization_config"] = ["quant_method": "gptq", "bits": 4]
        try JSONSerialization.data(withJSONObject: object).write(to: config)
        XCTAssertThrowsError(try ModelDirectory(out)) { error in
            print("expected error: \(error)")
            XCTAssertTrue("\(error)".contains("quantization_config"), "\(error)")
        }
    }

    /// The directory `remamba quantize --format q8` writes (config.json marked, matrices as Q8_0).
    static func writeQuantized(_ source: URL, to out: URL) throws {
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as? [String: Any])
        object["quantization_config"] = Q8Configuration.json
        try JSONSerialization.data(withJSONObject: object).write(to: out.appendingPathComponent("config.json"))
        let (converted, kept) = try ModelLoader.storedWeights(ModelDirectory(source)).converted(to: .q8_0, where: StreamedMatrices.contains)
        XCTAssertEqual(kept.isEmpty, source.path.contains("mamba2"), "Mamba's dt_proj (rows of dt_rank) stays: \(kept)")
        try SafetensorsWriter.write(converted.weights.map { ($0.key, .weight($0.value)) }, to: out.appendingPathComponent("model.safetensors"))
    }

    func argmaxRows(_ logits: Tensor) -> [Int] {
        (0..<logits.rows).map { r in Sampler.argmax(Array(logits.row(r))) }
    }
}
