import MambaLM
import TensorCore

/// The blocks of a Mamba-1 stack for training: forward keeping each block's tape (or, with
/// `recomputeLayers`, only its input) and backward from the last block to the first.
/// With a ReMamba `adaptation` (stage 2) every block adapts δ at the same rows (Eq. 8).
/// Legend: L rows, D d_model, E d_inner, K adapted rows.
struct LayerStackTape {
    var tapes: [MambaLayerTape?]
    let inputs: [Tensor]                      // [L, D] per block, only with recomputeLayers
    let adaptation: SelectiveAdaptation?
}

/// ∂loss/∂α (summed over the blocks and channels) and ∂loss/∂Θ_l of a stack that ran with an adaptation.
struct StackAdaptationGradient {
    var alpha: [Double]                       // [K]
    var offsets: [Tensor]                     // [E] per block
}

enum LayerStackTraining {
    /// hidden [L, D] → (last block's output [L, D] before norm_f, tape).
    static func forward(_ hidden: Tensor, _ p: MambaParameters, adaptation: SelectiveAdaptation? = nil,
                        options: TrainingOptions) -> (Tensor, LayerStackTape) {
        var h = hidden
        var tapes: [MambaLayerTape?] = [], inputs: [Tensor] = []
        for i in p.layers.indices {
            let (out, tape) = block(h, i, p, adaptation, options)
            if options.recomputeLayers { inputs.append(h) } else { tapes.append(tape) }
            h = out
        }
        return (h, LayerStackTape(tapes: tapes, inputs: inputs, adaptation: adaptation))
    }

    /// dOut [L, D] → ∂loss/∂(stack input) [L, D]; accumulates into `g.layers` and, when the stack ran with an
    /// adaptation, into `adaptationGradient` (which must then be non-nil). Frees the tapes as it goes.
    static func backward(_ tape: inout LayerStackTape, _ p: MambaParameters, options: TrainingOptions,
                         outputGradient dOut: Tensor, gradients g: inout MambaParameters,
                         adaptationGradient: inout StackAdaptationGradient?) -> Tensor {
        var dh = dOut
        for i in stride(from: p.layers.count - 1, through: 0, by: -1) {
            let blockTape = options.recomputeLayers ? block(tape.inputs[i], i, p, tape.adaptation, options).1 : tape.tapes[i]!
            if !options.recomputeLayers { tape.tapes[i] = nil }
            var blockGradient = adaptationGradient.map {
                LayerAdaptation.Gradient(alpha: [Double](repeating: 0, count: $0.alpha.count), offset: $0.offsets[i])
            }
            dh = MambaLayerTraining.backward(blockTape, p.layers[i], p.configuration, scanChunk: options.scanChunk,
                                             outputGradient: dh, gradients: &g.layers[i], adaptationGradient: &blockGradient)
            if let blockGradient {
                adaptationGradient!.offsets[i] = blockGradient.offset
                for j in blockGradient.alpha.indices { adaptationGradient!.alpha[j] += blockGradient.alpha[j] }
            }
        }
        return dh
    }

    static func block(_ h: Tensor, _ i: Int, _ p: MambaParameters, _ adaptation: SelectiveAdaptation?,
                      _ options: TrainingOptions) -> (Tensor, MambaLayerTape) {
        MambaLayerTraining.forward(h, p.layers[i], p.configuration, scanChunk: options.scanChunk,
                                   adaptation: adaptation.map { LayerAdaptation(adaptation: $0, layer: i) })
    }
}
