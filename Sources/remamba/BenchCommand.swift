import ArgumentParser
import Foundation
import MambaLM
import TensorCore

/// `remamba bench`: the machine's limits, then the model's speed as fractions of them.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure GEMM peak, memory bandwidth, prefill and decode speed against those limits.")

    @Option(name: .long, help: "Model shape with random weights: \((ModelShape.allCases.map(\.rawValue) + LlamaShape.allCases.map(\.rawValue)).joined(separator: "|")).")
    var shape: String = "130m"
    @Option(name: .long, help: "Benchmark this model directory instead of a random shape.") var model: String?
    @Option(name: .long, help: "Prompt lengths for prefill, comma-separated.") var prefill = "512,2048,6144"
    @Option(name: .long, help: "Tokens to decode.") var decode = 128
    @Option(name: .long, help: "Threads (BLAS and kernels).") var threads: Int?
    @Flag(name: .long, help: "Also compare ReMamba with Mamba: 6144 prompt tokens, 1024 generated (the paper's Fig. 6 setting).")
    var remamba = false
    @Option(name: .long, help: "Only measure training: one forward + backward of this many tokens (loss and all gradients).")
    var train: Int?
    @Option(name: .long, help: ArgumentHelp("The paper's Fig. 6 / Fig. 1 speed comparison of Mamba, ReMamba and Llama: small (mamba-130m vs llama-125m) or large (mamba-2.8b vs openllama-3b); one process per measurement.", valueName: "small|large"))
    var compare: String?
    @Option(name: .long, help: "--compare: input lengths.") var inputs = "1024,2048,4096,6144,8192"
    @Option(name: .long, help: "--compare: generated tokens per input.") var outputTokens = 1024
    @Option(name: .long, help: ArgumentHelp("--compare: write PREFIX.md (table) and PREFIX-speed.svg, PREFIX-memory.svg.", valueName: "prefix"))
    var out: String?
    @Option(name: .long, help: .hidden) var speedRun: String?
    @Option(name: .long, help: .hidden) var input: Int?

    func run() throws {
        if let threads { Parallel.threads = threads }
        if let train { return try benchTrain(length: train) }
        if let speedRun { return try measureSpeed(speedRun) }
        if let compare { return try compareSpeed(compare) }
        let lengths = try parseIDs(prefill, argument: "--prefill")
        print("kernels: \(MachineLimits.kernelBuild); OpenBLAS core: \(BLAS.coreName) "
              + "(OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset")); threads: \(Parallel.threads)")
        let gflops = MachineLimits.gemmGFLOPS()
        let bandwidth = MachineLimits.readBandwidthGBps()
        print(String(format: "machine: GEMM %.1f GFLOP/s, read bandwidth %.1f GB/s", gflops, bandwidth))
        let (model, weights) = try loadModel()
        try measure(model, weights: weights, lengths: lengths, gflops: gflops, bandwidth: bandwidth)
    }

    /// What the roofline needs of a model: parameters, d_model, whether lm_head is the embeddings.
    struct Sizes {
        let parameters: Int, hidden: Int, tied: Bool
        init(_ model: any LanguageModel) {
            if let m = model as? LlamaModel {
                (parameters, hidden, tied) = (m.parameterCount, m.configuration.hiddenSize, m.configuration.tieWordEmbeddings)
            } else {
                let m = model as! any Backbone
                (parameters, hidden, tied) = (m.parameterCount, m.hiddenSize, m.tiedEmbeddings)
            }
        }
    }

    /// Prefill at each length and decode, as fractions of the machine's limits. For a transformer the
    /// FLOPs and bytes count the weights only (attention over the cache comes on top).
    func measure(_ model: any LanguageModel, weights: WeightMap?, lengths: [Int], gflops: Double, bandwidth: Double) throws {
        let sizes = Sizes(model)
        let (v, d) = (model.vocabularySize, sizes.hidden)
        let matrixParameters = sizes.parameters - v * d * (sizes.tied ? 1 : 2)
        print("model: \(self.model ?? shape), \(String(format: "%.1f", Double(sizes.parameters) / 1e6)) M parameters, Float32")
        print("| phase | tokens | tokens/s | roofline fraction |")
        print("|---|---|---|---|")
        for l in lengths {
            let ids = (0..<l).map { ($0 * 7919) % v }
            var state = model.makeState()
            let t = MachineLimits.seconds { _ = try? model.prefill(ids, state: &state) }
            // FLOPs of prefill: the matrix products (2 per weight per token) and the lm_head of the last token.
            let flops = 2 * Double(matrixParameters) * Double(l) + 2 * Double(v * d)
            print(String(format: "| prefill | %d | %.0f | %.0f%% of GEMM peak |", l, Double(l) / t, 100 * flops / t / 1e9 / gflops))
        }
        var state = model.makeState()
        var logits = try model.prefill([1, 2, 3], state: &state)
        let t = MachineLimits.seconds {
            for _ in 0..<decode { logits = model.step(Sampler.argmax(logits.data), state: &state) }
        }
        // Bytes per decoded token: every weight matrix read once (the lm_head included); of an untied
        // embedding table only one row is read.
        let bytes = 4 * Double(sizes.parameters - (sizes.tied ? 0 : v * d))
        print(String(format: "| decode | %d | %.1f | %.0f%% of bandwidth (%.0f MB/token) |", decode, Double(decode) / t,
                     100 * bytes * Double(decode) / t / 1e9 / bandwidth, bytes / 1e6))
        print(String(format: "peak RSS: %.0f MiB", Double(MachineLimits.peakResidentBytes) / 1048576))
        if remamba {
            guard let weights, let mamba = model as? any Backbone else {
                throw ValidationError("--remamba compares on a random Mamba --shape (it needs ReMamba weights)")
            }
            try compareReMamba(mamba, weights)
        }
    }

    func loadModel() throws -> (any LanguageModel, WeightMap?) {
        if let model {
            do {
                let m = try ModelLoader.load(ModelDirectory(URL(fileURLWithPath: model)))
                guard m is any Backbone || m is LlamaModel else { throw ValidationError("\(model): not a plain Mamba, Mamba2 or Llama model") }
                return (m, nil)
            } catch let error as ValidationError { throw error } catch { throw CommandFailure(error) }
        }
        if let llama = LlamaShape(rawValue: shape) { return (llama.randomModel(), nil) }
        guard let s = ModelShape(rawValue: shape) else {
            throw ValidationError("--shape must be one of \((ModelShape.allCases.map(\.rawValue) + LlamaShape.allCases.map(\.rawValue)).joined(separator: ", ")), got \(shape)")
        }
        let (m, w) = s.randomModel()
        return (m, w)
    }

    /// Total time of prompt + generation, ReMamba (paper setting p = 0.18, ρ = 0.009) against Mamba.
    func compareReMamba<B: Backbone>(_ mamba: B, _ weights: WeightMap) throws {
        let remamba = ReMambaModel(base: mamba, weights: weights, settings: .paperDefault)
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
        print("| model | prompt (6144) s | generation (1024) s | total s |")
        print("|---|---|---|---|")
        print(String(format: "| Mamba | %.2f | %.2f | %.2f |", mp, mg, mp + mg))
        print(String(format: "| ReMamba | %.2f | %.2f | %.2f |", rp, rg, rp + rg))
        print(String(format: "ReMamba / Mamba total time: %.2f×", (rp + rg) / (mp + mg)))
    }
}
