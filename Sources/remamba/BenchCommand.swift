import ArgumentParser
import Foundation
import MambaLM
import TensorCore

/// `remamba bench`: the machine's limits, then the model's speed as fractions of them. Each cell is the
/// median of `--repeats` timed runs after one warm-up; `--json` prints one object per cell.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure GEMM peak, memory bandwidth, prefill and decode speed against those limits.")

    @Option(name: .long, help: "Model shape with random weights: \(ModelShape.allCases.map(\.rawValue).joined(separator: "|")).")
    var shape: String = "130m"
    @Option(name: .long, help: "Benchmark this model directory instead of a random shape.") var model: String?
    @Option(name: .long, help: "Store the weight matrices as f32, bf16, f16 or q8 (default: f32 for a shape, as stored for --model).")
    var dtype: String?
    @Option(name: .long, help: "Prompt lengths for prefill, comma-separated.") var prefill = "512,2048,6144"
    @Option(name: .long, help: "Tokens to decode.") var decode = 128
    @Option(name: .long, help: "Timed runs per cell (the median is reported), after one warm-up run.") var repeats = 3
    @Option(name: .long, help: "Threads (BLAS and kernels).") var threads: Int?
    @Flag(name: .long, help: "Print one JSON object per cell instead of a table.") var json = false
    @Flag(name: .long, help: "Also compare ReMamba with Mamba: 6144 prompt tokens, 1024 generated (the paper's Fig. 6 setting).")
    var remamba = false
    @Option(name: .long, help: "Only measure training: one forward + backward of this many tokens (loss and all gradients).")
    var train: Int?

    func validate() throws {
        if repeats < 1 { throw ValidationError("--repeats must be ≥ 1, got \(repeats)") }
        if decode < 1 { throw ValidationError("--decode must be ≥ 1, got \(decode)") }
        if let dtype { _ = try parseWeightType(dtype, argument: "--dtype") }
    }

    func run() throws {
        if let threads { Parallel.threads = threads }
        if let train { return try benchTrain(length: train) }
        let lengths = try parseIDs(prefill, argument: "--prefill")
        let report = BenchReport(json: json)
        report.note("kernels: \(MachineLimits.kernelBuild); OpenBLAS core: \(BLAS.coreName) "
                    + "(OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset")); threads: \(Parallel.threads)")
        let limits = (gflops: MachineLimits.gemmGFLOPS(), bandwidth: MachineLimits.readBandwidthGBps())
        report.machine(gflops: limits.gflops, bandwidth: limits.bandwidth)
        MachineLimits.resetPeakResident()  // the peak below is the model's, not the probes'
        let (model, weights) = try loadModel()
        try measure(model, weights: weights, lengths: lengths, limits: limits, report: report)
    }

    /// Prefill at each length and decode, as fractions of the machine's limits.
    func measure<B: Backbone>(_ model: B, weights: WeightMap?, lengths: [Int], limits: (gflops: Double, bandwidth: Double),
                              report: BenchReport) throws {
        let (v, d) = (model.vocabularySize, model.hiddenSize)
        let matrixParameters = model.parameterCount - v * d * (model.tiedEmbeddings ? 1 : 2)
        report.model(name: self.model ?? shape, parameters: model.parameterCount, dtype: model.embeddingTable.type.rawValue,
                     weightBytes: model.weightBytes, loadedRSS: MachineLimits.peakResidentBytes)
        for l in lengths {
            let ids = (0..<l).map { ($0 * 7919) % v }
            let t = MachineLimits.medianSeconds(repeats: repeats) {
                var state = model.makeState()
                _ = try? model.prefill(ids, state: &state)
            }
            // FLOPs of prefill: the matrix products (2 per weight per token) and the lm_head of the last token.
            let flops = 2 * Double(matrixParameters) * Double(l) + 2 * Double(v * d)
            report.cell(phase: "prefill", tokens: l, seconds: t, fraction: flops / t / 1e9 / limits.gflops, of: "GEMM peak")
        }
        var state = model.makeState()
        var logits = try model.prefill([1, 2, 3], state: &state)
        let start = state
        let t = MachineLimits.medianSeconds(repeats: repeats) {
            state = start
            for _ in 0..<decode { logits = model.step(Sampler.argmax(logits.data), state: &state) }
        }
        let bytes = Double(model.bytesPerToken)
        report.cell(phase: "decode", tokens: decode, seconds: t, fraction: bytes * Double(decode) / t / 1e9 / limits.bandwidth,
                    of: "bandwidth", extra: String(format: "%.0f MB/token", bytes / 1e6))
        report.peak(bytes: MachineLimits.peakResidentBytes, weightBytes: model.weightBytes)
        if remamba {
            guard let weights else { throw ValidationError("--remamba compares on a random --shape (it needs ReMamba weights)") }
            try compareReMamba(model, weights, report: report)
        }
    }

    func weightType() throws -> WeightType? { try dtype.map { try parseWeightType($0, argument: "--dtype") } }

    func loadModel() throws -> (any Backbone, WeightMap?) {
        if let model {
            do {
                guard let m = try ModelLoader.load(ModelDirectory(URL(fileURLWithPath: model)), dtype: weightType()) as? any Backbone else {
                    throw ValidationError("\(model): not a plain Mamba or Mamba2 model")
                }
                return (m, nil)
            } catch let error as ValidationError { throw error } catch { throw CommandFailure(error) }
        }
        guard let s = ModelShape(rawValue: shape) else {
            throw ValidationError("--shape must be one of \(ModelShape.allCases.map(\.rawValue).joined(separator: ", ")), got \(shape)")
        }
        let (m, w) = s.randomModel(dtype: try weightType() ?? .f32)
        return (m, w)
    }

    /// Total time of prompt + generation, ReMamba (paper setting p = 0.18, ρ = 0.009) against Mamba; the
    /// prompt phase also against ReMamba's inherent cost, (2 − p + ρ·p) × Mamba's prompt time (stage 1 is
    /// a whole forward, stage 2 a second one over the kept part of the prompt).
    func compareReMamba<B: Backbone>(_ mamba: B, _ weights: WeightMap, report: BenchReport) throws {
        let settings = CompressionSettings.paperDefault
        let remamba = ReMambaModel(base: mamba, weights: weights, settings: settings)
        let ids = (0..<6144).map { ($0 * 7919) % mamba.vocabularySize }
        func total(_ model: any LanguageModel) throws -> (Double, Double) {
            var state = model.makeState()
            var logits = Tensor(zeros: [1])
            let prompt = MachineLimits.seconds { logits = (try? model.prefill(ids, state: &state)) ?? logits }
            let generation = MachineLimits.seconds {
                for _ in 0..<1024 { logits = model.step(Sampler.argmax(logits.data), state: &state) }
            }
            return (prompt, generation)
        }
        let (mp, mg) = try total(mamba)
        let (rp, rg) = try total(remamba)
        let inherent = 2 - settings.length + settings.ratio * settings.length
        report.reMamba(mamba: (mp, mg), reMamba: (rp, rg), inherentPromptRatio: inherent)
    }
}
