import ArgumentParser
import MambaLM
import TensorCore

/// --remamba and its hyperparameters, shared by generate and logits.
struct ReMambaOptions: ParsableArguments {
    @Flag(name: .long, help: "Run ReMamba: compress the prompt (stage 1) and re-forward it with selective adaptation (stage 2).")
    var remamba = false
    @Option(name: .long, help: "s, start of the compressed range as a fraction of the prompt (default: config.json's stratio, else 0).")
    var compressStart: Double?
    @Option(name: .long, help: "p, length of the compressed range as a fraction of the prompt (default: compressp_ratio, else 0.18).")
    var compressLength: Double?
    @Option(name: .long, help: "ρ, fraction of the range's hidden states kept (default: config.json's ratio, else 0.009).")
    var compressRatio: Double?
    @Option(name: .long, help: "Ablation: how states are chosen: topk (ReMamba), random, fixed (evenly spaced).")
    var selection = "topk"
    @Option(name: .long, help: "Seed of --selection random.") var selectionSeed: UInt64 = 0
    @Option(name: .long, help: "Ablation: selective (Eq. 8, ReMamba), multiplicative (Value scaled by the score), none.")
    var adaptation = "selective"
    @Flag(name: .long, help: "Ablation: the paper's \"special\" variant: compress the whole prompt and append the states after it.")
    var appendCompressed = false

    func validate() throws {
        let given = compressStart != nil || compressLength != nil || compressRatio != nil || selection != "topk"
            || adaptation != "selective" || appendCompressed
        if given && !remamba { throw ValidationError("compression options need --remamba") }
        if !["topk", "random", "fixed"].contains(selection) { throw ValidationError("--selection must be topk, random or fixed, got \(selection)") }
        if CompressionSettings.Adaptation(rawValue: adaptation) == nil {
            throw ValidationError("--adaptation must be selective, multiplicative or none, got \(adaptation)")
        }
        do { try settings(defaults: nil)?.validate() } catch { throw ValidationError(error.description) }
    }

    /// nil without --remamba; otherwise the flags, falling back to config.json's values, then the paper's.
    func settings(defaults: ModelConfiguration.CompressionDefaults?) -> CompressionSettings? {
        guard remamba else { return nil }
        let paper = CompressionSettings.paperDefault
        return CompressionSettings(
            start: compressStart ?? defaults?.start ?? paper.start,
            length: compressLength ?? defaults?.length ?? paper.length,
            ratio: compressRatio ?? defaults?.ratio ?? paper.ratio,
            selection: selection == "random" ? .random(seed: selectionSeed) : selection == "fixed" ? .fixed : .topK,
            adaptation: CompressionSettings.Adaptation(rawValue: adaptation) ?? .selective,
            placement: appendCompressed ? .append : .replace)
    }

    /// The model of `directory` (with `adapter` merged in), plain or ReMamba as asked.
    func loadModel(_ directory: ModelDirectory, adapter: PEFTAdapter? = nil, dtype: WeightType? = nil) throws -> any LanguageModel {
        let s = settings(defaults: directory.configuration.compressionDefaults)
        try s?.validate()
        return try ModelLoader.load(directory, compression: s, adapter: adapter, dtype: dtype)
    }
}
