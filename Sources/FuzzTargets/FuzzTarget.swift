import Foundation

/// The untrusted inputs of the engine, one fuzz target each. `run` feeds one input through the same code
/// the commands and the server use, up to (not including) running a model on it; any error it throws is the
/// expected outcome for bad input, while a crash, a hang or unbounded memory is a bug. libFuzzer calls `run`
/// through `fuzz/` (`scripts/fuzz TARGET SECONDS`); `FuzzTargetsTests` replays every committed corpus and
/// crash input through the same function in CI (docs/FUZZING.md).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A model.safetensors beside a tiny config.json: header, tensor table against the config, tensor reads.
    case safetensors
    /// config.json in every layout and family, then what `info` and loading derive from it.
    case config
    /// adapter_config.json of a PEFT LoRA adapter, merged into a tiny base model when it loads.
    case adapterConfig = "adapter-config"
    /// tokenizer.json: load, then encode and decode the input's own text.
    case tokenizerJSON = "tokenizer-json"
    /// Any text through the committed tokenizers (encode, decode, streaming decode), and any ids decoded.
    case tokenize
    /// Training data lines (jsonl, every instruction format), tokenized into examples.
    case trainingData = "training-data"
    /// LongBench, L-Eval, multiple-choice and prediction jsonl lines, turned into prompts and scores.
    case evalData = "eval-data"
    /// HTTP request bodies of /v1/completions and /v1/chat/completions: decoded and validated, not generated.
    case serverRequest = "server-request"

    /// Removes the scratch files the targets wrote (the replay test and the driver call it at the end).
    public static func removeScratchFiles() {
        try? FileManager.default.removeItem(at: FuzzScratch.directory)
    }

    public func run(_ data: Data) {
        switch self {
        case .safetensors: SafetensorsFuzzing.run(data)
        case .config: ConfigurationFuzzing.run(data)
        case .adapterConfig: AdapterFuzzing.run(data)
        case .tokenizerJSON: TokenizerFuzzing.runFile(data)
        case .tokenize: TokenizerFuzzing.runText(data)
        case .trainingData: TrainingDataFuzzing.run(data)
        case .evalData: EvalDataFuzzing.run(data)
        case .serverRequest: ServerRequestFuzzing.run(data)
        }
    }
}
