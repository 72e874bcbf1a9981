import MambaLM
import TensorCore

/// The blocks of a stack (Mamba-1 or Mamba-2) for training: forward keeping each block's tape (or, with
/// `recomputeLayers`, only its input) and backward from the last block to the first.
/// With a ReMamba `adaptation` (stage 2) every block adapts Δ's pre-activation at the same rows (Eq. 8).
/// Legend: L rows, D d_model, K adapted rows, C channels of Δ (Mamba-1: E, Mamba-2: H).
struct LayerStackTape<Base: TrainableBackbone> {
    var tapes: [Base.LayerTape?]
    let inputs: [Tensor]                      // [L, D] per block, only with recomputeLayers
    let adaptation: SelectiveAdaptation?
}

/// ∂loss/∂α (summed over the blocks and channels) and ∂loss/∂Θ_l of a stack that ran with an adaptation.
struct StackAdaptationGradient {
    var alpha: [Double]                       // [K]
    var offsets: [Tensor]                     // [C] per block
}

enum LayerStackTraining {
    /// hidden [L, D] → (last block's output [L, D] before norm_f, tape).
    static func forward<Base: TrainableBackbone>(_ hidden: Tensor, _ p: Base, adaptation: SelectiveAdaptation? = nil,
                                                 options: TrainingOptions) -> (Tensor, LayerStackTape<Base>) {
        var h = hidden
        var tapes: [Base.LayerTape?] = [], inputs: [Tensor] = []
        for i in 0..<p.layerCount {
            let (out, tape) = block(h, i, p, adaptation, options)
            if options.recomputeLayers { inputs.append(h) } else { tapes.append(tape) }
            h = out
        }
        return (h, LayerStackTape(tapes: tapes, inputs: inputs, adaptation: adaptation))
    }

    /// dOut [L, D] → ∂loss/∂(stack input) [L, D]; accumulates into `g` and, when the stack ran with an
    /// adaptation, into `adaptationGradient` (which must then be non-nil). Frees the tapes as it goes.
    static func backward<Base: TrainableBackbone>(_ tape: inout LayerStackTape<Base>, _ p: Base, options: TrainingOptions,
                                                  outputGradient dOut: Tensor, gradients g: inout Base,
                                                  adaptationGradient: inout StackAdaptationGradient?) -> Tensor {
        var dh = dOut
        for i in stride(from: p.layerCount - 1, through: 0, by: -1) {
            let blockTape = options.recomputeLayers ? block(tape.inputs[i], i, p, tape.adaptation, options).1 : tape.tapes[i]!
            if !options.recomputeLayers { tape.tapes[i] = nil }
            var blockGradient = adaptationGradient.map {
                LayerAdaptation.Gradient(alpha: [Double](repeating: 0, count: $0.alpha.count), offset: $0.offsets[i])
            }
            dh = p.layerBackward(i, blockTape, scanChunk: options.scanChunk, outputGradient: dh, gradients: &g,
                                 adaptationGradient: &blockGradient)
            if let blockGradient {
                adaptationGradient!.offsets[i] = blockGradient.offset
                for j in blockGradient.alpha.indices { adaptationGradient!.alpha[j] += blockGradient.alpha[j] }
            }
        }
        return dh
    }

    static func block<Base: TrainableBackbone>(_ h: Tensor, _ i: Int, _ p: Base, _ adaptation: SelectiveAdaptation?,
                                               _ options: TrainingOptions) -> (Tensor, Base.LayerTape) {
        p.layerForward(i, h, scanChunk: options.scanChunk, adaptation: adaptation.map { LayerAdaptation(adaptation: $0, layer: i) })
    }
}
