/// What a LoRA run trains (PEFT's LoraConfig for it): rank-r factors on the `targetModules` and whole
/// copies of the `modulesToSave`; every other tensor stays frozen.
public struct LoRASettings: Sendable, Equatable {
    public var rank = 32
    /// PEFT's default lora_alpha is 8: the delta is scaled by alpha / r.
    public var alpha = 8.0
    public var dropout = 0.0
    /// Module names as PEFT matches them: a module is targeted when its path equals one or ends with "." + one.
    public var targetModules = ["in_proj", "out_proj", "embeddings", "lm_head"]
    /// Trained in full: Mamba-1's dt_proj, Mamba2's dt_bias, ReMamba's Q/K/V and ret_bias.
    public var modulesToSave = ["dt_proj", "dt_bias", "Q_proj", "K_proj", "V_proj", "ret_bias"]

    public init(rank: Int = 32, alpha: Double = 8) { (self.rank, self.alpha) = (rank, alpha) }

    public var scale: Float { Float(alpha / Double(rank)) }

    /// The default targets for a Llama model: every Linear of attention and MLP (q/k/v/o_proj, gate/up/down_proj).
    public static var llamaTargetModules: [String] {
        LlamaLayerParameters.adaptableModules.map { String($0.split(separator: ".").last!) }
    }

    static func matches(_ module: String, _ names: [String]) -> Bool {
        names.contains { module == $0 || module.hasSuffix("." + $0) }
    }
}
