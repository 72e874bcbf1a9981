import Foundation
import TensorCore

/// ReMamba over any `Backbone` (Mamba → ReMamba, Mamba2 → ReMamba2): the two-stage re-forward of the
/// paper, done once per prompt in prefill; decoding afterwards is the backbone's plain step.
/// The backbone is used as is, never copied or modified.
public struct ReMambaModel<Base: Backbone>: LanguageModel {
    public let base: Base
    public let compression: SelectiveCompression
    /// Θ_l (`ret_bias.param`), one per layer, of size `base.deltaOffsetSize`.
    public let deltaOffsets: [Tensor]
    public var settings: CompressionSettings

    public var vocabularySize: Int { base.vocabularySize }
    public var eosTokenID: Int? { base.eosTokenID }

    /// The tensors ReMamba adds to its backbone's checkpoint.
    public static func expectedWeights(hiddenSize d: Int, layers: Int, deltaOffsetSize e: Int) -> [String: [Int]] {
        var w: [String: [Int]] = [:]
        for module in ReMambaModules.allCases { w.merge(FeedForwardTensors.expectedWeights(d, prefix: module.rawValue)) { a, _ in a } }
        for i in 0..<layers { w.merge(DeltaOffsetTensors.expectedWeights(e, prefix: BackboneTensors.layer(i))) { a, _ in a } }
        return w
    }

    public init(base: Base, weights: WeightMap, settings: CompressionSettings) {
        self.base = base
        func module(_ m: ReMambaModules) -> FeedForward {
            FeedForward(ModuleWeights(weights, prefix: m.rawValue, configuration: base.hiddenSize))
        }
        compression = SelectiveCompression(query: module(.query), key: module(.key), value: module(.value))
        deltaOffsets = (0..<base.numberOfLayers).map {
            ModuleWeights<DeltaOffsetTensors>(weights, prefix: BackboneTensors.layer($0), configuration: base.deltaOffsetSize).tensor(.deltaOffset)
        }
        self.settings = settings
    }

    public func makeState() -> ModelState { base.makeState() }

    /// Everything stage 2 needs: the decisions of stage 1, the new input rows and the Δ adaptation.
    public struct Stage2: Sendable {
        public let compressed: SelectiveCompression.Result
        /// [L2, D]: embeddings[0 ..< st] ++ Value(h_selected) ++ embeddings[end ..< L]  (Eqs. 6–7)
        public let inputs: Tensor
        public let adaptation: SelectiveAdaptation?
    }

    /// Stage 1: the prompt through every layer from a fresh state (no lm_head), scoring and selection; what
    /// it gives is stage 2's input. `firstPosition` is where stage 2 will start (the state's position), for
    /// the adaptation's positions.
    public func runStage1(for ids: [Int], firstPosition: Int = 0) throws -> Stage2 {
        if ids.isEmpty { throw ModelError.emptyPrompt }
        try base.checkTokens(ids)
        let plan = try CompressionPlan(promptLength: ids.count, settings: settings)
        let l = ids.count
        let range = plan.range
        // Keep only the rows stage 1 reads: the range, and h_L (the query) when it is outside the range.
        let rows = range.contains(l - 1) ? [range] : [range, (l - 1)..<l]
        var scratch = base.makeState()
        let kept = base.hiddenStatesChunked(base.embed(ids), state: &scratch, keep: .ranges(rows))
        let result = compression.compress(rangeHidden: kept.rows(0..<range.count), lastHidden: kept.rows((kept.rows - 1)..<kept.rows),
                                          plan: plan, selection: settings.selection, adaptation: settings.adaptation)
        let inputs: Tensor
        let inserted: Range<Int>
        switch settings.placement {
        case .replace:
            var parts = [base.embed(Array(ids[0..<plan.start])), result.values]
            if plan.end < l { parts.append(base.embed(Array(ids[plan.end..<l]))) }
            inputs = Tensor.concatenateRows(parts)
            inserted = plan.start..<(plan.start + plan.keep)
        case .append:
            inputs = Tensor.concatenateRows([base.embed(ids), result.values])
            inserted = l..<(l + plan.keep)
        }
        let adaptation = settings.adaptation == .selective
            ? SelectiveAdaptation(positions: (inserted.lowerBound + firstPosition)..<(inserted.upperBound + firstPosition),
                                  alpha: result.alpha, deltaOffsets: deltaOffsets)
            : nil
        return Stage2(compressed: result, inputs: inputs, adaptation: adaptation)
    }

    /// Stage 2 from `state`: the hidden states of the rows `keep` selects.
    public func runStage2(_ stage2: Stage2, state: inout ModelState, keep: RowSelection) -> Tensor {
        base.hiddenStatesChunked(stage2.inputs, state: &state, adaptation: stage2.adaptation, keep: keep)
    }

    public func prefill(_ ids: [Int], state: inout ModelState) throws -> Tensor {
        let plan = try runStage1(for: ids, firstPosition: state.position)
        return base.logits(runStage2(plan, state: &state, keep: .last)).reshaped([vocabularySize])
    }

    public func step(_ id: Int, state: inout ModelState) -> Tensor { base.step(id, state: &state) }
    public func step(_ ids: [Int], states: inout [ModelState]) -> Tensor { base.step(ids, states: &states) }
}
