import ArgumentParser
import Foundation
import MambaLM
import MambaTraining
import TensorCore

/// `remamba bench --train`: one forward + backward (loss and every parameter's gradient) of a model (--model,
/// or --shape with random weights; Mamba, Mamba-2 or Llama) at --train tokens: time, tokens/s, achieved GFLOP/s,
/// and peak resident memory. The GEMM probe runs after the steps, so each peak RSS is the training step's.
/// Activation checkpointing of whole layers is measured first (smaller peak), then the default that
/// keeps every layer's tape: VmHWM only grows, so each printed peak is that mode's.
extension Bench {
    func benchTrain(length: Int) throws {
        let (step, named, v) = try trainingStep()
        let count = named.reduce(0) { $0 + $1.1.count }
        let ids = (0..<length).map { ($0 * 7919) % v }
        // FLOPs: every weight multiplies every token once forward (2 FLOPs) and twice backward (dx, dW: 4),
        // the embeddings as the lm_head's matrix (tied) or the lm_head's own matrix: either way `count`. (Llama's
        // attention scores, ~12·layers·L²·d more, are not counted: the figure is a lower bound there.)
        let flops = 6 * Double(count) * Double(length)
        print("kernels: \(MachineLimits.kernelBuild); OpenBLAS core: \(BLAS.coreName); threads: \(Parallel.threads)")
        print("model: \(model ?? shape + " random"), \(String(format: "%.1f", Double(count) / 1e6)) M parameters, Float32; "
              + String(format: "RSS after building it: %.0f MiB", Double(MachineLimits.peakResidentBytes) / 1048576))
        var rows: [(recompute: Bool, seconds: Double, peak: Double, finite: Bool)] = []
        for recompute in [true, false] {
            var loss = 0.0
            let t = MachineLimits.seconds { loss = step(ids, TrainingOptions(recomputeLayers: recompute)) }
            rows.append((recompute, t, Double(MachineLimits.peakResidentBytes) / 1048576, loss.isFinite))
        }
        let gflops = MachineLimits.gemmGFLOPS()
        print(String(format: "machine: GEMM %.1f GFLOP/s (measured after the steps)", gflops))
        print("| layer tapes | tokens | forward+backward s | tokens/s | GFLOP/s (6·weights·tokens) | of GEMM peak | peak RSS |")
        print("|---|---|---|---|---|---|---|")
        for row in rows {
            let achieved = flops / row.seconds / 1e9
            print(String(format: "| %@ | %d | %.2f | %.0f | %.0f | %.0f%% | %.0f MiB |", row.recompute ? "recomputed" : "kept", length,
                         row.seconds, Double(length) / row.seconds, achieved, 100 * achieved / gflops, row.peak)
                  + (row.finite ? "" : " (loss not finite!)"))
        }
    }

    /// One training step (ids, options → loss) of the model's family, its parameters by checkpoint name, and
    /// its vocabulary size.
    func trainingStep() throws -> (([Int], TrainingOptions) -> Double, [(String, Tensor)], Int) {
        if let model {
            let directory = try openModelDirectory(model)
            if directory.configuration.llama != nil { return Self.step(try LlamaParameters(directory: directory)) }
            if directory.configuration.mamba2 != nil { return Self.step(try Mamba2Parameters(directory: directory)) }
            return Self.step(try MambaParameters(directory: directory))
        }
        if let llama = LlamaShape(rawValue: shape) {
            let c = llama.configuration
            return Self.step(LlamaParameters(weights: WeightMap.random(LlamaModel.expectedWeights(c), seed: 0), configuration: c))
        }
        guard let s = ModelShape(rawValue: shape) else {
            throw ValidationError("--shape must be one of \((ModelShape.allCases.map(\.rawValue) + LlamaShape.allCases.map(\.rawValue)).joined(separator: ", ")), got \(shape)")
        }
        switch s.architecture {
        case .mamba(let c):
            return Self.step(MambaParameters(weights: MambaModel.random(c).1, configuration: c))
        case .mamba2(let c):
            return Self.step(Mamba2Parameters(weights: WeightMap.random(Mamba2Model.expectedWeights(c), seed: 0), configuration: c))
        case .llama:
            preconditionFailure("ModelShape has no Llama shapes")
        }
    }

    /// The next-token step of `p`, its named parameters and vocabulary size.
    static func step<Model: TrainableModel>(_ p: Model) -> (([Int], TrainingOptions) -> Double, [(String, Tensor)], Int) {
        ({ p.lossAndGradients(ids: $0, targets: MambaGradients.nextTokenTargets($0), options: $1).loss }, p.named, p.vocabularySize)
    }
}
