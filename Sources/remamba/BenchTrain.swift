import ArgumentParser
import Foundation
import MambaLM
import MambaTraining
import TensorCore

/// `remamba bench --train`: one forward + backward (loss and every parameter's gradient) of a random
/// model (--model, or --shape with random weights) at --train tokens: time, tokens/s, achieved GFLOP/s, and peak resident memory.
/// Only this runs (no GEMM / bandwidth probes), so the peak RSS is the training step's. Activation
/// checkpointing of whole layers is measured first (smaller peak), then the default that keeps every
/// layer's tape: VmHWM only grows, so each printed peak is that mode's.
extension Bench {
    func benchTrain(length: Int) throws {
        let parameters: MambaParameters
        if let model {
            parameters = try MambaParameters(directory: ModelDirectory(URL(fileURLWithPath: model)))
        } else {
            guard let s = ModelShape(rawValue: shape) else {
                throw ValidationError("--shape must be one of \(ModelShape.allCases.map(\.rawValue).joined(separator: ", ")), got \(shape)")
            }
            guard let c = s.configuration else { throw ValidationError("--train measures Mamba (v1) shapes; \(shape) is Mamba2") }
            parameters = MambaParameters(weights: MambaModel.random(c).1, configuration: c)
        }
        let c = parameters.configuration
        let count = parameters.named.reduce(0) { $0 + $1.1.count }
        let ids = (0..<length).map { ($0 * 7919) % c.vocabularySize }
        // FLOPs: every weight multiplies every token once forward (2 FLOPs) and twice backward (dx, dW: 4),
        // the embeddings as the lm_head's matrix (tied) or the lm_head's own matrix: either way `count`.
        let flops = 6 * Double(count) * Double(length)
        print("kernels: \(MachineLimits.kernelBuild); OpenBLAS core: \(BLAS.coreName); threads: \(Parallel.threads)")
        print("model: \(model ?? shape + " random"), \(String(format: "%.1f", Double(count) / 1e6)) M parameters, Float32; "
              + String(format: "RSS after building it: %.0f MiB", Double(MachineLimits.peakResidentBytes) / 1048576))
        print("| layer tapes | tokens | forward+backward s | tokens/s | GFLOP/s (6·weights·tokens) | peak RSS |")
        print("|---|---|---|---|---|---|")
        for recompute in [true, false] {
            var loss = 0.0
            let t = MachineLimits.seconds {
                loss = MambaGradients.lossAndGradients(parameters, ids: ids, options: TrainingOptions(recomputeLayers: recompute)).loss
            }
            print(String(format: "| %@ | %d | %.2f | %.0f | %.0f | %.0f MiB |", recompute ? "recomputed" : "kept", length, t,
                         Double(length) / t, flops / t / 1e9, Double(MachineLimits.peakResidentBytes) / 1048576)
                  + (loss.isFinite ? "" : " (loss not finite!)"))
        }
    }
}
