import ArgumentParser
import Foundation
import MambaLM
import TensorCore

/// `remamba bench`: the machine's limits, then the model's speed as fractions of them. Each cell is the
/// median of `--repeats` timed runs after one warm-up; `--json` prints one object per cell.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure GEMM peak, memory bandwidth, prefill and decode speed against those limits.")

    @Option(name: .long, help: "Model shape with random weights: \((ModelShape.allCases.map(\.rawValue) + LlamaShape.allCases.map(\.rawValue)).joined(separator: "|")).")
    var shape: String = "130m"
    @Option(name: .long, help: "Benchmark this model directory instead of a random shape.") var model: String?
    @Option(name: .long, help: "Store the weight matrices as f32, bf16, f16 or q8 (default: f32 for a shape, as stored for --model).")
    var dtype: String?
    @Option(name: .long, help: "Prompt lengths for prefill, comma-separated.") var prefill = "512,2048,6144"
    @Option(name: .long, help: "Tokens to decode.") var decode = 128
    @Option(name: .long, help: "Batched decode: numbers of sequences stepped together, comma-separated (aggregate tokens/s, as the server's continuous batching runs them).")
    var batch: String?
    @Option(name: .long, help: "Timed runs per cell (the median is reported), after one warm-up run.") var repeats = 3
    @Option(name: .long, help: "Threads (BLAS and kernels).") var threads: Int?
    @Flag(name: .long, help: "Print one JSON object per cell instead of a table.") var json = false
    @Flag(name: .long, help: "Also compare ReMamba with Mamba: 6144 prompt tokens, 1024 generated (the paper's Fig. 6 setting).")
    var remamba = false
    @Option(name: .long, help: "Only measure training: one forward + backward of this many tokens (loss and all gradients).")
    var train: Int?
    @Option(name: .long, help: ArgumentHelp("The paper's Fig. 6 / Fig. 1 speed comparison of Mamba, ReMamba and Llama: small (mamba-130m vs llama-125m) or large (mamba-2.8b vs openllama-3b), or tiny (seconds, for tests); one process per measurement.", valueName: "small|large|tiny"))
    var compare: String?
    @Option(name: .long, help: "--compare: input lengths.") var inputs = "1024,2048,4096,6144,8192"
    @Option(name: .long, help: "--compare: generated tokens per input.") var outputTokens = 1024
    @Option(name: .long, help: ArgumentHelp("--compare: write PREFIX.md (table) and PREFIX-speed.svg, PREFIX-memory.svg.", valueName: "prefix"))
    var out: String?
    @Option(name: .long, help: .hidden) var speedRun: String?
    @Option(name: .long, help: .hidden) var input: Int?

    func validate() throws {
        if repeats < 1 { throw ValidationError("--repeats must be ≥ 1, got \(repeats)") }
        if decode < 1 { throw ValidationError("--decode must be ≥ 1, got \(decode)") }
        if let dtype { _ = try parseWeightType(dtype, argument: "--dtype") }
        if let batch, let small = try parseIDs(batch, argument: "--batch").first(where: { $0 < 1 }) {
            throw ValidationError("--batch: batch sizes must be ≥ 1, got \(small)")
        }
    }

    func run() throws {
        if let threads { Parallel.threads = threads }
        if let train { return try benchTrain(length: train) }
        if let speedRun { return try measureSpeed(speedRun) }
        if let compare { return try compareSpeed(compare) }
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

    /// What the roofline needs of a model: parameters, d_model, whether lm_head is the embeddings, and the
    /// bytes of its weights as held (a Llama model's are Float32 arrays).
    struct Sizes {
        let parameters: Int, hidden: Int, tied: Bool, dtype: String, bytesPerToken: Int, weightBytes: Int
        init(_ model: any LanguageModel) {
            if let m = model as? LlamaModel {
                let c = m.configuration
                (parameters, hidden, tied, dtype) = (m.parameterCount, c.hiddenSize, c.tieWordEmbeddings, "f32")
                bytesPerToken = 4 * (parameters - (tied ? 0 : c.vocabularySize * c.hiddenSize))
                weightBytes = 4 * parameters
            } else {
                let m = model as! any Backbone
                (parameters, hidden, tied, dtype) = (m.parameterCount, m.hiddenSize, m.tiedEmbeddings, m.embeddingTable.type.rawValue)
                (bytesPerToken, weightBytes) = (m.bytesPerToken, m.weightBytes)
            }
        }
    }

    /// Prefill at each length and decode, as fractions of the machine's limits. For a transformer the
    /// FLOPs and bytes count the weights only (attention over the cache comes on top).
    func measure(_ model: any LanguageModel, weights: WeightMap?, lengths: [Int], limits: (gflops: Double, bandwidth: Double),
                 report: BenchReport) throws {
        let sizes = Sizes(model)
        let (v, d) = (model.vocabularySize, sizes.hidden)
        let matrixParameters = sizes.parameters - v * d * (sizes.tied ? 1 : 2)
        report.model(name: self.model ?? shape, parameters: sizes.parameters, dtype: sizes.dtype,
                     weightBytes: sizes.weightBytes, loadedRSS: MachineLimits.peakResidentBytes)
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
        let bytes = Double(sizes.bytesPerToken)
        report.cell(phase: "decode", tokens: decode, seconds: t, fraction: bytes * Double(decode) / t / 1e9 / limits.bandwidth,
                    of: "bandwidth", extra: String(format: "%.0f MB/token", bytes / 1e6))
        if let batch { try measureBatches(model, sizes: sizes, batches: parseIDs(batch, argument: "--batch"), limits: limits, report: report) }
        report.peak(bytes: MachineLimits.peakResidentBytes, weightBytes: sizes.weightBytes)
        if remamba {
            guard let weights, let mamba = model as? any Backbone else {
                throw ValidationError("--remamba compares on a random Mamba --shape (it needs ReMamba weights)")
            }
            try compareReMamba(mamba, weights, report: report)
        }
    }

    /// `decode` steps of B sequences at once (`LanguageModel.step(_:states:)`), each after a short prompt of its
    /// own: aggregate tokens/s against the GEMM peak (2 FLOPs per weight per token), since a large batch turns
    /// the memory-bound matrix–vector products into compute-bound matrix products.
    func measureBatches(_ model: any LanguageModel, sizes: Sizes, batches: [Int], limits: (gflops: Double, bandwidth: Double),
                        report: BenchReport) throws {
        let v = model.vocabularySize
        for b in batches {
            var starts: [ModelState] = [], firsts: [Int] = []
            for s in 0..<b {
                var state = model.makeState()
                let logits = try model.prefill([(1 + s) % v, 2, 3], state: &state)
                starts.append(state)
                firsts.append(Sampler.argmax(logits.data))
            }
            let t = MachineLimits.medianSeconds(repeats: repeats) {
                var states = starts, ids = firsts
                for _ in 0..<decode {
                    let logits = model.step(ids, states: &states)
                    ids = (0..<b).map { Sampler.argmax(Array(logits.data[($0 * v)..<(($0 + 1) * v)])) }
                }
            }
            let flops = 2 * Double(sizes.parameters - (sizes.tied ? 0 : v * sizes.hidden)) * Double(b * decode)
            report.cell(phase: "decode ×\(b)", tokens: b * decode, seconds: t, fraction: flops / t / 1e9 / limits.gflops, of: "GEMM peak")
        }
    }

    func weightType() throws -> WeightType? { try dtype.map { try parseWeightType($0, argument: "--dtype") } }

    func loadModel() throws -> (any LanguageModel, WeightMap?) {
        if let model {
            do {
                let m = try ModelLoader.load(openModelDirectory(model, dtype: weightType()), dtype: weightType())
                guard m is any Backbone || m is LlamaModel else { throw ValidationError("\(model): not a plain Mamba, Mamba2 or Llama model") }
                return (m, nil)
            } catch let error as ValidationError { throw error } catch { throw CommandFailure(error) }
        }
        if let llama = LlamaShape(rawValue: shape) {
            if let type = try weightType(), type != .f32 { throw ValidationError("--dtype \(type.rawValue): Llama shapes run in Float32 only") }
            return (llama.randomModel(), nil)
        }
        guard let s = ModelShape(rawValue: shape) else {
            throw ValidationError("--shape must be one of \((ModelShape.allCases.map(\.rawValue) + LlamaShape.allCases.map(\.rawValue)).joined(separator: ", ")), got \(shape)")
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
