import Foundation
import MambaLM
import TensorCore

/// Loss and gradients of ReMamba over either base family for training, through both stages, as the official
/// training code runs it (lblankl/ReMamba; Mamba-1: `Remambahf/src/model/ReMamba.py`, `MambaModel.forward` in
/// training mode, and its `Remambahf/src/model/selective_scan_interface.py`, `MambaInnerFn`; Mamba-2:
/// `ReMamba2/src/model/ReMamba.py`, `MixerModel.forward`, and `ReMamba2/src/model/ressd_combined.py`,
/// `MambaSplitConv1dScanCombinedFn`):
///   stage 1  E[prompt] → blocks → norm_f → h [P, D];  q = Query(h[P−1]), k_i = Key(h_i) on the range,
///            cos_i (Eq. 3), top-K (Eq. 4), α = ReLU(cos) (Eq. 8), v = Value(h_selected) (Eq. 5)
///   stage 2  E[0..<st] ++ v ++ E[rangeEnd..<L] → blocks with the Δ adaptation at the K rows (Eq. 8; Mamba-1
///            per channel on W_dt·r, Mamba-2 per head on in_proj's dt, both before the dt bias)
///            → norm_f → lm_head → cross-entropy (Eqs. 6–7)
/// and back: stage-2 blocks → (dv, dα, dΘ) → Value, ReLU, cosine, Key, Query → h → norm_f and stage-1 blocks →
/// embeddings. Both stages accumulate into the same base gradients (tied lm_head into the embeddings).
///
/// `scaleImportanceGradient` (default: `Base.officialScalesImportanceGradient`, on for Mamba-1, off for
/// Mamba-2) reproduces the official Mamba-1 backward of α. `MambaInnerFn.backward` (the autograd
/// Function the training forward goes through, comment "In ReMamba-hf we use rescaled gradient") computes
///   ddelta[:, :, p:p+K] *= token_weights;  dtoken_weights = Σ_d ddelta[:, :, p:p+K] · delta[:, :, p:p+K]
/// i.e. it multiplies dδ by α first (right for W_dt and r) and then uses that product for dα too, so
/// ∂loss/∂α reaches ReLU and the cosine multiplied by α once more (per block, so the sum over blocks too):
///   dα_official = α · dα.  Off: the true gradient.
/// Mamba-2's official backward (`MambaSplitConv1dScanCombinedFn.backward`, comment "In ReMamba2 we do not use
/// rescale gradient. If we use it, no obvious improvement.") computes dtoken_weights = Σ_h ddt·dt before scaling
/// ddt by α, but its forward wrote the adapted dt (dt·α + Θ) into the saved in_proj output in place, so that dt
/// is the adapted one: dα = α·dα_true + Σ_h ddt_h·Θ_h (equal to the rescaled gradient while Θ = 0). Off (the
/// default for Mamba-2) is the true gradient, as its comment intends; on is the Mamba-1 rescaling.
/// Not reproduced (Mamba-1): with its default checkpoint_lvl = 1 the same backward recomputes δ = W_dt·r *without* the
/// adaptation and runs the scan's backward with it, so the official gradients at the K rows are those of the
/// unadapted Δ; here the scan's backward uses the Δ the forward used.
/// Legend: L ids (prompt ++ response), P prompt, L2 stage-2 rows, R range rows, K kept, D d_model.
public enum ReMambaGradients {
    /// The loss and ∂loss/∂(every parameter). The plan is computed over the prompt (`ids[0..<promptLength]`)
    /// from `settings` with the official rounding (`CompressionPlan`); placement must be `.replace`.
    /// `targets` are aligned with `ids` (nil: no loss; default: next-token targets), see `stage2Targets`.
    public static func lossAndGradients<Base>(_ p: ReMambaParameters<Base>, ids: [Int], promptLength: Int, targets: [Int?]? = nil,
                                              settings: CompressionSettings, scaleImportanceGradient: Bool? = nil,
                                              options: TrainingOptions = TrainingOptions()) throws -> (loss: Double, gradients: ReMambaParameters<Base>) {
        precondition(settings.placement == .replace, "ReMambaGradients: only the replace placement is trainable")
        let plan = try CompressionPlan(promptLength: promptLength, settings: settings)
        return lossAndGradients(p, ids: ids, plan: plan, targets: targets, selection: settings.selection,
                                adaptation: settings.adaptation, scaleImportanceGradient: scaleImportanceGradient, options: options)
    }

    /// The same for a given plan (e.g. drawn by `ReMambaRecipe`); `plan.promptLength` is the prompt's length.
    public static func lossAndGradients<Base>(_ p: ReMambaParameters<Base>, ids: [Int], plan: CompressionPlan, targets: [Int?]? = nil,
                                              selection: CompressionSettings.Selection = .topK,
                                              adaptation: CompressionSettings.Adaptation = .selective,
                                              scaleImportanceGradient: Bool? = nil,
                                              options: TrainingOptions = TrainingOptions()) -> (loss: Double, gradients: ReMambaParameters<Base>) {
        let promptLength = plan.promptLength, range = plan.range
        let targets = targets ?? MambaGradients.nextTokenTargets(ids)
        precondition(promptLength <= ids.count && targets.count == ids.count,
                     "ReMambaGradients: prompt \(promptLength), \(ids.count) ids, \(targets.count) targets")
        let prompt = Array(ids[0..<promptLength]), tail = Array(ids[range.upperBound...])
        let base = p.base, epsilon = base.layerNormEpsilon
        let base2 = base.nextDropoutPass()                  // stage 2 runs every module again: fresh LoRA dropout masks
        let scaleImportanceGradient = scaleImportanceGradient ?? Base.officialScalesImportanceGradient
        var g = p.zeros()

        // Stage 1.
        let (h1, tape1) = LayerStackTraining.forward(MambaGradients.embed(base.embeddings, prompt), base, options: options)
        let final1 = RMSNorm.forward(h1, weight: base.finalNorm, epsilon: epsilon)                  // [P, D]
        let rangeHidden = final1.rows(range)                                                        // [R, D]
        let (q, queryTape) = FeedForwardTraining.forward(final1.rows((promptLength - 1)..<promptLength), p.query)  // [1, D]
        let (k, keyTape) = FeedForwardTraining.forward(rangeHidden, p.key)                          // [R, D]
        let importance = ImportanceTraining.forward(keys: k, query: q)                              // [R]  Eq. 3
        let chosen = SelectiveCompression.choose(plan.keep, from: importance, selection: selection) // [K]  Eq. 4
        let alpha = chosen.map { max(importance[$0], 0) }                                           // [K]  Eq. 8
        let (valueOut, valueTape) = FeedForwardTraining.forward(
            Tensor.concatenateRows(chosen.map { rangeHidden.rows($0..<($0 + 1)) }), p.value)        // [K, D]  Eq. 5
        var values = valueOut
        if adaptation == .multiplicative { scaleRows(&values, chosen.map { importance[$0] }) }

        // Stage 2.
        let inserted = plan.start..<(plan.start + plan.keep)
        let inputs2 = Tensor.concatenateRows([MambaGradients.embed(base.embeddings, Array(ids[0..<plan.start])), values,
                                              MambaGradients.embed(base.embeddings, tail)])        // [L2, D]  Eqs. 6–7
        let selective = adaptation == .selective
            ? SelectiveAdaptation(positions: inserted, alpha: alpha, deltaOffsets: p.deltaOffsets) : nil
        var (h2, tape2) = LayerStackTraining.forward(inputs2, base2, adaptation: selective, options: options)      // [L2, D]
        let (loss, dh2) = MambaGradients.headLossAndBackward(h2, base2, targets: stage2Targets(targets, plan: plan),
                                                             options: options, gradients: &g.base)
        h2 = Tensor(zeros: [0])                                                                      // free it early
        var adaptationGradient = selective.map { _ in
            StackAdaptationGradient(alpha: [Double](repeating: 0, count: plan.keep), offsets: g.deltaOffsets)
        }
        let dInputs2 = LayerStackTraining.backward(&tape2, base2, options: options, outputGradient: dh2, gradients: &g.base,
                                                   adaptationGradient: &adaptationGradient)          // [L2, D]
        if let adaptationGradient { g.deltaOffsets = adaptationGradient.offsets }
        MambaGradients.embedBackward(Array(ids[0..<plan.start]), outputGradient: dInputs2.rows(0..<plan.start),
                                     weightGradient: &g.base.embeddings)
        MambaGradients.embedBackward(tail, outputGradient: dInputs2.rows(inserted.upperBound..<dInputs2.rows),
                                     weightGradient: &g.base.embeddings)

        // Back through stage 1's compression: dv, dα → Value, ReLU, cosine, Key, Query.
        var dValues = dInputs2.rows(inserted)                                                       // [K, D]
        var dImportance = [Double](repeating: 0, count: importance.count)                           // [R]
        if let adaptationGradient {
            for (j, offset) in chosen.enumerated() where importance[offset] > 0 {                   // ReLU'
                dImportance[offset] += adaptationGradient.alpha[j] * (scaleImportanceGradient ? Double(alpha[j]) : 1)
            }
        }
        if adaptation == .multiplicative {
            let d = dValues.columns
            for (j, offset) in chosen.enumerated() {
                var dot = 0.0
                for c in 0..<d { dot += Double(dValues.data[j * d + c]) * Double(valueOut.data[j * d + c]) }
                dImportance[offset] += dot
            }
            scaleRows(&dValues, chosen.map { importance[$0] })
        }
        var dFinal1 = Tensor(zeros: final1.shape)                                                   // [P, D]
        let dSelected = FeedForwardTraining.backward(valueTape, p.value, outputGradient: dValues, gradients: &g.value)
        for (j, offset) in chosen.enumerated() { addRow(&dFinal1, range.lowerBound + offset, dSelected, j) }
        var dKeys = Tensor(zeros: k.shape), dQuery = Tensor(zeros: q.shape)
        ImportanceTraining.backward(keys: k, query: q, importanceGradient: dImportance, keyGradient: &dKeys, queryGradient: &dQuery)
        let dRange = FeedForwardTraining.backward(keyTape, p.key, outputGradient: dKeys, gradients: &g.key)
        for i in 0..<range.count { addRow(&dFinal1, range.lowerBound + i, dRange, i) }
        let dLast = FeedForwardTraining.backward(queryTape, p.query, outputGradient: dQuery, gradients: &g.query)
        addRow(&dFinal1, promptLength - 1, dLast, 0)

        // Stage 1's norm_f and blocks.
        var dh1 = Tensor(zeros: h1.shape)
        RMSNorm.backward(h1, weight: base.finalNorm, epsilon: epsilon, outputGradient: dFinal1,
                         inputGradient: &dh1, weightGradient: &g.base.finalNorm)
        var stage1 = tape1, none: StackAdaptationGradient? = nil
        let dEmbedded1 = LayerStackTraining.backward(&stage1, base, options: options, outputGradient: dh1, gradients: &g.base,
                                                     adaptationGradient: &none)
        MambaGradients.embedBackward(prompt, outputGradient: dEmbedded1, weightGradient: &g.base.embeddings)
        return (loss, g)
    }

    /// The targets of the stage-2 rows, from `targets` aligned with the original ids (targets[t] is what
    /// position t predicts). Rows before the range keep theirs; rows after it are shifted with their tokens; of
    /// the K inserted rows only the last has one, the range's last target (it is followed by the first token
    /// after the range, as the range's last position was). This is the official training loss: it appends
    /// `append_len = L − L2` raw embeddings in front of the stage-2 outputs and shifts the labels, which gives
    /// every stage-2 row the target of the original position aligned from the right; the other rows it
    /// scores (those raw embeddings, the first K − 1 inserted rows) lie before the prompt's last position, so
    /// they have no target when, as in its fine-tuning, only the response is scored. For s = 0 and
    /// response-only targets the two losses are equal.
    public static func stage2Targets(_ targets: [Int?], plan: CompressionPlan) -> [Int?] {
        let rangeEnd = plan.range.upperBound
        return Array(targets[0..<plan.start]) + [Int?](repeating: nil, count: plan.keep - 1) + [targets[rangeEnd - 1]]
            + Array(targets[rangeEnd...])
    }

    /// m[j, :] *= s[j].
    static func scaleRows(_ m: inout Tensor, _ s: [Float]) {
        let d = m.columns
        for (j, factor) in s.enumerated() { for c in 0..<d { m.data[j * d + c] *= factor } }
    }

    /// m[row, :] += source[sourceRow, :].
    static func addRow(_ m: inout Tensor, _ row: Int, _ source: Tensor, _ sourceRow: Int) {
        let d = m.columns
        for c in 0..<d { m.data[row * d + c] += source.data[sourceRow * d + c] }
    }
}
