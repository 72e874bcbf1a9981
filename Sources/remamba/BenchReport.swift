import Foundation

/// How `remamba bench` prints: a Markdown table for people, or one JSON object per line (`--json`) for
/// tools. Every speed comes with the fraction of the machine limit it is measured against.
final class BenchReport {
    let json: Bool
    init(json: Bool) { self.json = json }

    func note(_ text: String) { if json { emit(["kind": "note", "text": text]) } else { print(text) } }

    func machine(gflops: Double, bandwidth: Double) {
        if json { return emit(["kind": "machine", "gemm_gflops": gflops, "read_bandwidth_gbps": bandwidth]) }
        print(String(format: "machine: GEMM %.1f GFLOP/s, read bandwidth %.1f GB/s", gflops, bandwidth))
    }

    func model(name: String, parameters: Int, dtype: String, weightBytes: Int, loadedRSS: Int) {
        if json {
            return emit(["kind": "model", "model": name, "parameters": parameters, "dtype": dtype, "weight_bytes": weightBytes,
                         "rss_after_load_bytes": loadedRSS])
        }
        print(String(format: "model: %@, %.1f M parameters, weights %@ (%.0f MiB; RSS after load %.0f MiB)", name,
                     Double(parameters) / 1e6, dtype, Double(weightBytes) / 1048576, Double(loadedRSS) / 1048576))
        print("| phase | tokens | tokens/s | roofline fraction |")
        print("|---|---|---|---|")
    }

    func cell(phase: String, tokens: Int, seconds: Double, fraction: Double, of limit: String, extra: String? = nil) {
        if json {
            return emit(["kind": "cell", "phase": phase, "tokens": tokens, "seconds": seconds, "tokens_per_second": Double(tokens) / seconds,
                         "fraction": fraction, "limit": limit])
        }
        print(String(format: "| %@ | %d | %.1f | %.0f%% of %@%@ |", phase, tokens, Double(tokens) / seconds, 100 * fraction, limit,
                     extra.map { " (\($0))" } ?? ""))
    }

    func peak(bytes: Int, weightBytes: Int) {
        let ratio = Double(bytes) / Double(max(weightBytes, 1))
        if json { return emit(["kind": "peak_rss", "bytes": bytes, "weight_bytes": weightBytes, "ratio_to_weights": ratio]) }
        print(String(format: "peak RSS: %.0f MiB (%.2f× the weights)", Double(bytes) / 1048576, ratio))
    }

    func reMamba(mamba: (prompt: Double, generation: Double), reMamba: (prompt: Double, generation: Double), inherentPromptRatio: Double) {
        let promptRatio = reMamba.prompt / mamba.prompt
        let totalRatio = (reMamba.prompt + reMamba.generation) / (mamba.prompt + mamba.generation)
        if json {
            return emit(["kind": "remamba", "mamba_prompt_seconds": mamba.prompt, "mamba_generation_seconds": mamba.generation,
                         "remamba_prompt_seconds": reMamba.prompt, "remamba_generation_seconds": reMamba.generation,
                         "prompt_ratio": promptRatio, "inherent_prompt_ratio": inherentPromptRatio, "total_ratio": totalRatio])
        }
        print("| model | prompt (6144) s | generation (1024) s | total s |")
        print("|---|---|---|---|")
        print(String(format: "| Mamba | %.2f | %.2f | %.2f |", mamba.prompt, mamba.generation, mamba.prompt + mamba.generation))
        print(String(format: "| ReMamba | %.2f | %.2f | %.2f |", reMamba.prompt, reMamba.generation, reMamba.prompt + reMamba.generation))
        print(String(format: "ReMamba / Mamba: prompt %.2f× (inherent %.2f×: %.0f%% of it), total %.2f×", promptRatio, inherentPromptRatio,
                     100 * promptRatio / inherentPromptRatio, totalRatio))
    }

    private func emit(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        print(String(decoding: data, as: UTF8.self))
    }
}
