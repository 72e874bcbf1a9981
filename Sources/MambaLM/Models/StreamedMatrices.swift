import TensorCore

/// The matrices a model reads as stored `Weight`s, every token: those each family declares `streamed`
/// (`BackboneTensors`, `MambaTensors`, `Mamba2Tensors`, `LlamaModelTensors`, `LlamaTensors`: the embeddings,
/// the lm_head and each layer's projections). They are what `--dtype` and `remamba quantize` convert; every
/// other tensor (norms, conv, A_log, D, biases, ReMamba's Q/K/V and Θ) is small and is read once as Float32.
public enum StreamedMatrices {
    public static func contains(_ name: String) -> Bool {
        BackboneTensors.isStreamed(name) || MambaTensors.isStreamed(name) || Mamba2Tensors.isStreamed(name)
            || LlamaModelTensors.isStreamed(name) || LlamaTensors.isStreamed(name)
    }

    /// `weights` with the streamed matrices stored as `type` (unchanged when nil). Q8_0 needs rows of a
    /// multiple of 32: a matrix with other rows keeps its type (Mamba's dt_proj, whose rows are dt_rank long).
    public static func convert(_ weights: WeightMap, to type: WeightType?) -> WeightMap {
        guard let type else { return weights }
        return weights.converted(to: type, where: contains).map
    }
}
