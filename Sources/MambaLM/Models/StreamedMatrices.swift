import TensorCore

/// The matrices a model reads as stored `Weight`s, every token: the embeddings, the lm_head and each
/// layer's projections (Mamba's in_proj, x_proj, dt_proj, out_proj; Mamba2's in_proj, out_proj; Llama's
/// q/k/v/o_proj and gate/up/down_proj). They are
/// what `--dtype` and `remamba quantize` convert; every other tensor (norms, conv, A_log, D, biases,
/// ReMamba's Q/K/V and Θ) is small and is read once as Float32.
public enum StreamedMatrices {
    static let suffixes = ["in_proj.weight", "x_proj.weight", "dt_proj.weight", "out_proj.weight",
                           "embeddings.weight", "lm_head.weight",
                           "q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight",
                           "gate_proj.weight", "up_proj.weight", "down_proj.weight", "embed_tokens.weight"]

    public static func contains(_ name: String) -> Bool { suffixes.contains { name.hasSuffix($0) } }

    /// `weights` with the streamed matrices stored as `type` (unchanged when nil). Q8_0 needs rows of a
    /// multiple of 32: a matrix with other rows keeps its type (Mamba's dt_proj, whose rows are dt_rank long).
    public static func convert(_ weights: WeightMap, to type: WeightType?) -> WeightMap {
        guard let type else { return weights }
        return weights.converted(to: type, where: contains).map
    }
}
