import XCTest
import Foundation
@testable import MambaLM
import TensorCore

/// The memory check counts the weights in the type the model will hold them: the checkpoint's (F32, F16,
/// BF16, Q8_0) or the --dtype conversion. Each estimate, made from config.json alone, must equal the bytes
/// the loaded model actually holds (found by walking its stored properties, `StoredBytes`): exact, since
/// both count the same tensors.
final class ModelFootprintTests: XCTestCase {
    /// Bytes the loaded model holds (a tied lm_head once).
    func heldBytes(_ model: any LanguageModel) throws -> Int {
        if let backbone = model as? any Backbone { return backbone.weightBytes }
        let llama = try XCTUnwrap(model as? LlamaModel)
        return StoredBytes.of(llama) - (llama.configuration.tieWordEmbeddings ? llama.embeddings.storedBytes : 0)
    }

    func testEveryConversionIsCountedAsTheModelHoldsIt() throws {
        for path in ["mamba1/tiny_a", "mamba2/tiny_a", "llama/llama_a", "llama/llama_b"] {
            let directory = try ModelDirectory(Fixtures.root.appendingPathComponent(path))
            XCTAssertTrue(directory.storedMatrixTypes == (.f32, .f32), path)
            let footprint = ModelFootprint(directory.configuration.architecture)
            for type in WeightType.allCases {
                let model = try ModelLoader.load(directory, dtype: type)
                let estimate = try XCTUnwrap(footprint.weightBytes(matrices: type, kept: directory.storedMatrixTypes.kept))
                XCTAssertEqual(estimate, try heldBytes(model), "\(path) as \(type)")
            }
            // Q8_0 is 1 byte + a 2-byte scale per 32 (1.0625 per weight); F16/BF16 2; F32 4: strictly smaller.
            let bytes = WeightType.allCases.map { footprint.weightBytes(matrices: $0)! }
            XCTAssertGreaterThan(bytes[0], bytes[1], path)
            XCTAssertEqual(bytes[1], bytes[2], path)
            XCTAssertGreaterThan(bytes[2], bytes[3], path)
        }
    }

    func testStoredTypeIsReadFromTheHeaders() throws {
        for (path, type) in [("llama/llama_a_f16", WeightType.f16), ("llama/llama_a_bf16", .bf16)] {
            let directory = try ModelDirectory(Fixtures.root.appendingPathComponent(path))
            XCTAssertTrue(directory.storedMatrixTypes == (type, type), path)
            let estimate = ModelFootprint(directory.configuration.architecture).weightBytes(matrices: type)
            XCTAssertEqual(estimate, try heldBytes(ModelLoader.load(directory)), path)
        }
        // A directory `remamba quantize --format q8` wrote: Q8_0 values + F16 scales, Mamba's dt_proj kept F32.
        let scratch = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        try StoredWeightTests.writeQuantized(Fixtures.mamba1("tiny_a"), to: scratch)
        let quantized = try ModelDirectory(scratch)
        XCTAssertTrue(quantized.storedMatrixTypes == (.q8_0, .f32), "\(quantized.storedMatrixTypes)")
        let estimate = ModelFootprint(quantized.configuration.architecture).weightBytes(matrices: .q8_0, kept: .f32)
        XCTAssertEqual(estimate, try heldBytes(ModelLoader.load(quantized)))
    }

    /// The refusal uses the type asked for: the same configuration fits as Q8_0 and not as F32.
    func testTheCheckUsesTheConversionAskedFor() throws {
        let directory = try ModelDirectory(Fixtures.root.appendingPathComponent("llama/llama_a"))
        let footprint = ModelFootprint(directory.configuration.architecture)
        let q8 = try XCTUnwrap(footprint.weightBytes(matrices: .q8_0))
        XCTAssertNoThrow(try footprint.verifyFits(path: "config.json", matrices: .q8_0, physicalMemory: q8))
        XCTAssertThrowsError(try footprint.verifyFits(path: "config.json", matrices: .q8_0, physicalMemory: q8 - 1))
        XCTAssertThrowsError(try footprint.verifyFits(path: "config.json", matrices: .f32, physicalMemory: q8)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("config.json") && text.contains("weight matrices as F32"), text)
        }
    }
}
