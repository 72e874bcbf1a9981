import Foundation
import MambaLM
import TensorCore

/// Forward and backward of the whole Llama language model (Hugging Face `LlamaForCausalLM`) for the mean
/// next-token cross-entropy, as `model(ids, labels=ids).loss` in transformers: position t predicts ids[t + 1],
/// the last position has no target. Every parameter gets a gradient (a tied lm_head's inside the embeddings').
///   embed_tokens → N × `LlamaLayerTraining` → norm → lm_head → cross-entropy
/// The sequence runs from position 0 in one piece; RoPE's frequencies are those of L positions (dynamic
/// scaling recomputes them for the length, as transformers does). Legend: L length, D hidden_size, V vocab.
public enum LlamaGradients {
    /// The loss and ∂loss/∂(every parameter), in a value shaped like the parameters; `targets` default to the next tokens.
    public static func lossAndGradients(_ p: LlamaParameters, ids: [Int], targets: [Int?]? = nil,
                                        options: TrainingOptions = TrainingOptions()) -> (loss: Double, gradients: LlamaParameters) {
        let targets = targets ?? MambaGradients.nextTokenTargets(ids)
        precondition(targets.count == ids.count, "LlamaGradients: \(ids.count) ids, \(targets.count) targets")
        let c = p.configuration, frequencies = inverseFrequencies(c, length: ids.count)
        // Forward, keeping each layer's tape (or, with recomputeLayers, only its input).
        var h = MambaGradients.embed(p.embeddings, ids)                                      // [L, D]
        var tapes: [LlamaLayerTape?] = [], inputs: [Tensor] = []
        for layer in p.layers {
            let (out, tape) = LlamaLayerTraining.forward(h, layer, c, inverseFrequencies: frequencies)
            if options.recomputeLayers { inputs.append(h) } else { tapes.append(tape) }
            h = out
        }
        // norm → lm_head → loss, and back to the last layer's output.
        var g = p.zeros()
        var dHead = Tensor(zeros: p.head.shape)
        let (loss, dh) = MambaGradients.headLossAndBackward(h, finalNorm: p.finalNorm, head: p.head, headAdapter: p.headAdapter,
                                                            epsilon: c.rmsNormEpsilon, targets: targets, options: options,
                                                            finalNormGradient: &g.finalNorm, headGradient: &dHead,
                                                            headAdapterGradient: &g.headAdapter)
        if p.lmHead == nil { g.embeddings = dHead } else { g.lmHead = dHead }
        // The layers backward, freeing each tape once used.
        var dHidden = dh
        for i in stride(from: p.layers.count - 1, through: 0, by: -1) {
            let tape = options.recomputeLayers
                ? LlamaLayerTraining.forward(inputs[i], p.layers[i], c, inverseFrequencies: frequencies).1 : tapes[i]!
            if !options.recomputeLayers { tapes[i] = nil }
            dHidden = LlamaLayerTraining.backward(tape, p.layers[i], c, inverseFrequencies: frequencies, outputGradient: dHidden,
                                                  gradients: &g.layers[i])
        }
        MambaGradients.embedBackward(ids, outputGradient: dHidden, weightGradient: &g.embeddings)
        return (loss, g)
    }

    /// Logits [L, V] of the training forward (tests compare them with `LlamaModel`'s inference forward).
    public static func logits(_ p: LlamaParameters, ids: [Int]) -> Tensor {
        let c = p.configuration, frequencies = inverseFrequencies(c, length: ids.count)
        var h = MambaGradients.embed(p.embeddings, ids)
        for layer in p.layers { h = LlamaLayerTraining.forward(h, layer, c, inverseFrequencies: frequencies).0 }
        return AdaptedLinear.forward(RMSNorm.forward(h, weight: p.finalNorm, epsilon: c.rmsNormEpsilon), weight: p.head, adapter: p.headAdapter)
    }

    /// RoPE's inverse frequencies [P/2] for a sequence of `length` positions from 0.
    static func inverseFrequencies(_ c: LlamaConfiguration, length: Int) -> [Float] {
        c.rotary.inverseFrequencies(headDimension: c.headDimension, sequenceLength: length, maxPositions: c.maxPositionEmbeddings)
    }
}
