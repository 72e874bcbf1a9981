import XCTest
import Foundation
import MambaLM
@testable import MambaTraining
import TensorCore

/// The comparison of the model-level gradient tests (Mamba-1, Mamba-2, ReMamba, ReMamba2) with PyTorch's
/// float64 goldens: per case, the loss within 1e-5 absolute and every gradient within
/// `relativeTolerance`·max|g| + 1e-8 of its golden; each case prints its loss and its worst gradient, and
/// `printWorst` the worst over all cases.
struct GoldenGradients {
    let relativeTolerance: Float
    /// How the tolerance prints ("2e-5").
    let toleranceText: String
    /// Whether a golden takes the shape of our tensor (same count) instead of having to have it.
    var reshapesGoldens = false
    private(set) var worst: (relative: Float, label: String) = (0, "")

    init(relativeTolerance: Float, toleranceText: String, reshapesGoldens: Bool = false) {
        (self.relativeTolerance, self.toleranceText, self.reshapesGoldens) = (relativeTolerance, toleranceText, reshapesGoldens)
    }

    /// One case: `loss` against the golden scalar `lossName`, and every gradient of `named` against golden's
    /// `prefix + name` (the same set of names).
    mutating func check(_ label: String, loss: Double, named: [(String, Tensor)], golden: SafetensorsFile, lossName: String,
                        prefix: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expectedLoss = Double(try golden.tensor(lossName).data[0])
        print("\(label): loss \(loss), PyTorch \(expectedLoss), |Δ| = \(abs(loss - expectedLoss)) (tolerance 1e-5)")
        XCTAssertEqual(loss, expectedLoss, accuracy: 1e-5, label, file: file, line: line)
        let worstHere = try compare(named, golden: golden, prefix: prefix, label: label, file: file, line: line)
        print("\(label): \(named.count) gradients, worst max |Δ| / max |g| = \(worstHere.0) at \(worstHere.1) (|Δ| = \(worstHere.2)); tolerance \(toleranceText)·scale + 1e-8")
        if worstHere.0 > worst.relative { worst = (worstHere.0, "\(label) \(worstHere.1)") }
    }

    /// Every gradient of `named` against golden's `prefix + name` (the same set of names, the same shapes),
    /// max |Δ| ≤ relativeTolerance·max|g| + 1e-8 each; returns the worst relative difference, where, and its |Δ|.
    func compare(_ named: [(String, Tensor)], golden: SafetensorsFile, prefix: String, label: String,
                 file: StaticString = #filePath, line: UInt = #line) throws -> (Float, String, Float) {
        XCTAssertEqual(Set(named.map { prefix + $0.0 }), Set(golden.names.filter { $0.hasPrefix(prefix) }),
                       "\(label): gradient names", file: file, line: line)
        var worst: (Float, String, Float) = (0, "", 0)
        for (name, mine) in named {
            var expected = try golden.tensor(prefix + name)
            if reshapesGoldens { expected = expected.reshaped(mine.shape) }
            XCTAssertEqual(mine.shape, expected.shape, name, file: file, line: line)
            guard mine.shape == expected.shape else { continue }
            let scale = expected.data.reduce(Float(0)) { max($0, abs($1)) }
            let d = mine.maxAbsDifference(expected)
            XCTAssertLessThanOrEqual(d, relativeTolerance * scale + 1e-8, "\(label) \(name): max |Δ| = \(d), scale \(scale)",
                                     file: file, line: line)
            let relative = d / max(scale, 1e-30)
            if relative > worst.0 { worst = (relative, name, d) }
        }
        return worst
    }

    /// A base model's (either family's) next-token loss and gradients against the goldens
    /// `<folder>/<name>.safetensors` of scripts/fixtures/mamba*_gradients.py, for each name at L = 40 and 150.
    static func checkBaseModels<Layer>(_ names: [String], folder: URL, scanChunk: Int, title: String,
                                       parameters: (String) throws -> BackboneParameters<Layer>,
                                       file: StaticString = #filePath, line: UInt = #line) throws {
        var check = MambaGradientTests.goldenGradients
        for name in names {
            let p = try parameters(name)
            let golden = try SafetensorsFile(path: folder.appendingPathComponent("\(name).safetensors").path)
            for length in [40, 150] {
                let ids = try golden.integers("input_ids.L\(length)")
                let (loss, g) = MambaGradients.lossAndGradients(of: p, ids: ids, targets: nil,
                                                                options: TrainingOptions(scanChunk: scanChunk, headRowsPerChunk: 64))
                try check.check("\(name) L=\(length)", loss: loss, named: g.named, golden: golden, lossName: "loss.L\(length)",
                                prefix: "grad.L\(length).", file: file, line: line)
            }
        }
        check.printWorst(title)
    }

    /// A case of scripts/fixtures/remamba*_gradients.py (manifest.json); Mamba-2's have no selection and
    /// adaptation (top-K, selective).
    struct ReMambaCase: Decodable {
        let tag: String
        let prompt_length: Int
        let start: Double, compressed_length: Double, ratio: Double
        let selection: String?, adaptation: String?
        /// "next" (next-token) or "response" (none in the prompt).
        let targets: String
        let scale_importance_gradient: Bool

        var settings: CompressionSettings {
            CompressionSettings(start: start, length: compressed_length, ratio: ratio,
                                selection: selection == "fixed" ? .fixed : .topK,
                                adaptation: adaptation.map { CompressionSettings.Adaptation(rawValue: $0)! } ?? .selective)
        }

        func targets(_ ids: [Int]) -> [Int?] {
            var targets = MambaGradients.nextTokenTargets(ids)
            if self.targets == "response" { for t in 0..<(prompt_length - 1) { targets[t] = nil } }
            return targets
        }
    }

    struct ReMambaManifest: Decodable { let cases: [ReMambaCase] }

    /// ReMamba's (both families') loss and gradients against every case of the goldens folder `folder`
    /// (`<model>.safetensors` and manifest.json, at least `minimumCases` cases), relative tolerance 3e-5.
    static func checkReMambaCases<Base>(_ p: ReMambaParameters<Base>, folder: URL, model: String, minimumCases: Int,
                                        title: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let golden = try SafetensorsFile(path: folder.appendingPathComponent("\(model).safetensors").path)
        let manifest = try JSONDecoder().decode(ReMambaManifest.self, from: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
        XCTAssertGreaterThanOrEqual(manifest.cases.count, minimumCases, file: file, line: line)
        var check = GoldenGradients(relativeTolerance: 3e-5, toleranceText: "3e-5", reshapesGoldens: true)
        for c in manifest.cases {
            let ids = try golden.integers("case.\(c.tag).input_ids")
            // scanChunk 16: the states are kept every 16 positions and recomputed in between, in both stages.
            let (loss, g) = try ReMambaGradients.lossAndGradients(p, ids: ids, promptLength: c.prompt_length, targets: c.targets(ids),
                                                                  settings: c.settings, scaleImportanceGradient: c.scale_importance_gradient,
                                                                  options: TrainingOptions(scanChunk: 16, headRowsPerChunk: 64))
            try check.check(c.tag, loss: loss, named: g.named, golden: golden, lossName: "case.\(c.tag).loss",
                            prefix: "case.\(c.tag).grad.", file: file, line: line)
        }
        check.printWorst(title)
    }

    /// "<title>: worst relative difference <r> at <case> <name>".
    func printWorst(_ title: String) {
        print("\(title): worst relative difference \(worst.relative) at \(worst.label)")
    }
}
