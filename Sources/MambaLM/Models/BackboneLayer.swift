import Foundation
import TensorCore

/// What `BackboneModel` needs from a family's configuration (`MambaConfiguration`, `Mamba2Configuration`).
public protocol BackboneConfiguration: Sendable {
    var hiddenSize: Int { get }
    var numberOfLayers: Int { get }
    var vocabularySize: Int { get }
    var layerNormEpsilon: Float { get }
    var tieWordEmbeddings: Bool { get set }
    var eosTokenID: Int? { get }
}

extension MambaConfiguration: BackboneConfiguration {}
extension Mamba2Configuration: BackboneConfiguration {}

/// How a family's layers run a prompt, chosen on the model (`Mamba2Layer.Options`: chunked or sequential SSD).
public protocol LayerOptions: Sendable {
    init()
}

/// One residual block of a family (`MambaLayer`, `Mamba2Layer`): its tensors, its state, its forward.
/// `BackboneModel` is written once over it.
public protocol BackboneLayer: Sendable {
    associatedtype Configuration: BackboneConfiguration
    associatedtype Tensors: CheckpointTensors where Tensors.Configuration == Configuration
    associatedtype Options: LayerOptions

    /// The block from its module of a strictly loaded weight map.
    init(_ weights: ModuleWeights<Tensors>)
    func makeState() -> LayerState
    /// hidden [L, D] → hidden [L, D], carrying `state`; `adapt` rewrites Δ's pre-activation (ReMamba, Eq. 8).
    func forward(_ hidden: Tensor, state: inout LayerState, options: Options, adapt: ((inout Tensor) -> Void)?) -> Tensor
    /// The rows of `hidden` split into `segments`, segment s a sequence carried by `states[s]`.
    func forward(_ hidden: Tensor, states: inout [LayerState], segments: [Range<Int>], options: Options,
                 adapt: ((inout Tensor) -> Void)?) -> Tensor
    /// The decode step: one position of B sequences, hidden [B, D] updated in place, row b continuing `states[b]`,
    /// every intermediate in `scratch` (`stepScratchCount` floats); equal bit for bit to `forward` over one-row
    /// segments.
    func step(_ hidden: UnsafeMutablePointer<Float>, batch: Int, states: inout [LayerState], scratch: UnsafeMutablePointer<Float>)
    static func stepScratchCount(_ c: Configuration, batch: Int) -> Int

    /// Θ_l's size: one per channel of Δ (Mamba-1: d_inner; Mamba-2: heads).
    static func deltaOffsetSize(_ c: Configuration) -> Int
    /// This family's configuration in a config.json, nil when it is of another family.
    static func configuration(_ file: ModelConfiguration) -> Configuration?
    /// The family's name in messages ("Mamba (v1)", "Mamba2").
    static var familyName: String { get }
}

/// A = −exp(A_log), element-wise (Mamba-1: [E, N]; Mamba-2: [H]); A_log is what checkpoints store.
public func stateMatrix(aLog: Tensor) -> Tensor {
    Tensor(shape: aLog.shape, data: aLog.data.map { -Foundation.exp($0) })
}
