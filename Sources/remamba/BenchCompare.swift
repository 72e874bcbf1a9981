import ArgumentParser
import Foundation
import MambaLM
import OutputFiles
import Plots
import TensorCore

/// `remamba bench --compare`: the paper's speed comparison (Fig. 6: tokens/s for 1k–8k input tokens and
/// 1k output tokens; Fig. 1: 6k in, 1k out) of Mamba, ReMamba (p = 0.18, ρ = 0.009) and a same-class
/// Llama, all with random weights, their matrices Float32 or --dtype. Each (model, input length) runs in a
/// fresh child process (`--speed-run`), so that its peak RSS is its own.
extension Bench {
    /// The pair of shapes of a comparison class.
    static func pair(_ name: String) throws -> (mamba: ModelShape, llama: LlamaShape) {
        switch name {
        case "small": return (.m130, .m125)
        case "large": return (.b2_8, .openLLaMA3b)
        case "tiny": return (.tiny, .tiny)   // seconds: the comparison's machinery, not a figure (tests)
        default: throw ValidationError("--compare must be small, large or tiny, got \(name)")
        }
    }

    struct SpeedResult: Codable {
        var system: String, input: Int, output: Int
        var promptSeconds: Double, generationSeconds: Double, peakRSS: Int
        /// Generated tokens per second of the whole request (prompt included): what a user waits for.
        var endToEnd: Double { Double(output) / (promptSeconds + generationSeconds) }
        var decode: Double { Double(output) / generationSeconds }
    }

    /// The child: one system at one input length; prints a SpeedResult as JSON.
    func measureSpeed(_ system: String) throws {
        guard let input, input >= 1 else { throw ValidationError("--speed-run needs --input N") }
        let (mambaShape, llamaShape) = try Self.pair(shape)
        let dtype = try weightType() ?? .f32
        let model: any LanguageModel
        switch system {
        case "mamba": model = mambaShape.randomModel(dtype: dtype).0
        case "remamba":
            let (base, weights) = mambaShape.randomModel(dtype: dtype)
            guard let mamba = base as? MambaModel else { throw ValidationError("ReMamba needs a Mamba-1 shape") }
            model = ReMambaModel(base: mamba, weights: weights, settings: .paperDefault)
        case "llama": model = llamaShape.randomModel(dtype: dtype)
        default: throw ValidationError("--speed-run must be mamba, remamba or llama")
        }
        let ids = (0..<input).map { ($0 * 7919) % model.vocabularySize }
        var state = model.makeState()
        var logits = Tensor(zeros: [1])
        var failure: Error?
        let prompt = MachineLimits.seconds {
            do { logits = try model.prefill(ids, state: &state) } catch { failure = error }
        }
        if let failure { throw CommandFailure(failure) }
        let generation = MachineLimits.seconds {
            for _ in 0..<outputTokens { logits = model.step(Sampler.argmax(logits.data), state: &state) }
        }
        let result = SpeedResult(system: system, input: input, output: outputTokens, promptSeconds: prompt,
                                 generationSeconds: generation, peakRSS: MachineLimits.peakResidentBytes)
        print(String(decoding: try JSONEncoder().encode(result), as: UTF8.self))
    }

    /// The parent: every system at every input length, each in its own process; a table and two plots.
    func compareSpeed(_ name: String) throws {
        let (mambaShape, llamaShape) = try Self.pair(name)
        let lengths = try parseIDs(inputs, argument: "--inputs")
        guard outputTokens >= 1 else { throw ValidationError("--output-tokens must be ≥ 1") }
        let files = out.map { [$0 + ".md", $0 + "-speed.svg", $0 + "-memory.svg"] } ?? []
        try validateOutputs(files)   // before hours of measurements
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        var results: [SpeedResult] = []
        for system in ["mamba", "remamba", "llama"] {
            for length in lengths {
                var arguments = ["bench", "--shape", name, "--speed-run", system, "--input", "\(length)", "--output-tokens", "\(outputTokens)"]
                if let threads { arguments += ["--threads", "\(threads)"] }
                if let dtype { arguments += ["--dtype", dtype] }
                let process = Process()
                process.executableURL = executable
                process.arguments = arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                try process.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                guard process.terminationStatus == 0, let result = try? JSONDecoder().decode(SpeedResult.self, from: data) else {
                    throw ValidationError("bench --speed-run \(system) --input \(length) failed (status \(process.terminationStatus))")
                }
                printError(String(format: "%@ %d: prompt %.1f s, generation %.1f s, peak RSS %.0f MiB", system, length,
                                  result.promptSeconds, result.generationSeconds, Double(result.peakRSS) / 1048576))
                results.append(result)
            }
        }
        let type = dtype.map { ", \($0)" } ?? ""
        let names = ["mamba": "Mamba (\(mambaShape.rawValue)\(type))", "remamba": "ReMamba (\(mambaShape.rawValue)\(type))",
                     "llama": "Llama (\(llamaShape.rawValue)\(type))"]
        var table = ["| model | input | prompt s | generation s | total s | end-to-end tokens/s | decode tokens/s | peak RSS MiB |",
                     "|---|---|---|---|---|---|---|---|"]
        for r in results {
            table.append(String(format: "| %@ | %d | %.1f | %.1f | %.1f | %.2f | %.1f | %.0f |", names[r.system]!, r.input, r.promptSeconds,
                                r.generationSeconds, r.promptSeconds + r.generationSeconds, r.endToEnd, r.decode, Double(r.peakRSS) / 1048576))
        }
        let text = table.joined(separator: "\n")
        print(text)
        guard !files.isEmpty else { return }
        func chart(_ title: String, _ yLabel: String, _ value: (SpeedResult) -> Double) -> LineChart {
            var c = LineChart(title: title, series: ["mamba", "remamba", "llama"].map { system in
                (name: names[system]!, points: results.filter { $0.system == system }.map { (x: Double($0.input), y: value($0)) })
            })
            (c.xLabel, c.yLabel, c.yRange) = ("input tokens (+\(outputTokens) generated)", yLabel, nil)
            return c
        }
        let speed = chart("End-to-end speed, \(name) pair", "generated tokens/s (prompt included)", \.endToEnd).render()
        let memory = chart("Peak memory, \(name) pair", "peak RSS (MiB)", { Double($0.peakRSS) / 1048576 }).render()
        do {
            try OutputFile.write(zip(files, [text + "\n", speed.text, memory.text]).map { ($0, Data($1.utf8)) })
        } catch { throw CommandFailure(error) }
        printError("wrote \(files.joined(separator: ", "))")
    }
}
