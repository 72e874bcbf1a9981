import Foundation
import TensorCore

/// What a configuration will allocate, computed from config.json alone in overflow-checked arithmetic
/// before any tensor exists, so that a config too large for this machine (or for Int) is refused with the
/// numbers instead of aborting in an allocation, and a config whose layers are not those of the weights
/// fails before the model's tensor names are listed.
public struct ModelFootprint: Sendable, Equatable {
    /// Parameters of the model (nil: more than Int holds).
    public let parameterCount: Int?
    /// Bytes of the weights in Float32 (the most a load can hold: stored F16/BF16/Q8_0 take less), nil when beyond Int.
    public var weightBytes: Int? { CheckedSize.product(parameterCount, 4) }
    /// Bytes of the recurrent state of one sequence (conv + SSM state of every layer, Float32).
    public let stateBytes: Int?
    public let numberOfLayers: Int

    public init(_ architecture: ModelConfiguration.Architecture) {
        /// Σ over tensors of Π shape.
        func parameters(_ shapes: [String: [Int]]) -> Int? { CheckedSize.sum(shapes.values.map { CheckedSize.product($0) }) }
        let global: Int?, layer: Int?, stateOfLayer: Int?
        switch architecture {
        case .mamba(let c):
            var globals = c
            globals.numberOfLayers = 0
            numberOfLayers = c.numberOfLayers
            (global, layer) = (parameters(MambaModel.expectedWeights(globals)), parameters(MambaTensors.expectedWeights(c, prefix: "")))
            // conv [E, K] + ssm [E, N]
            stateOfLayer = CheckedSize.product(c.expand, c.hiddenSize, CheckedSize.sum(c.stateSize, c.convolutionKernel))
        case .mamba2(let c):
            var globals = c
            globals.numberOfLayers = 0
            numberOfLayers = c.numberOfLayers
            (global, layer) = (parameters(Mamba2Model.expectedWeights(globals)), parameters(Mamba2Tensors.expectedWeights(c, prefix: "")))
            // ssm [H, P, N] + conv [E + 2·G·N, K]
            stateOfLayer = CheckedSize.sum(CheckedSize.product(c.numberOfHeads, c.headDimension, c.stateSize),
                                           CheckedSize.product(c.convolutionDimension, c.convolutionKernel))
        case .llama(let c):
            var globals = c
            globals.numberOfLayers = 0
            numberOfLayers = c.numberOfLayers
            (global, layer) = (parameters(LlamaModel.expectedWeights(globals)), parameters(LlamaTensors.expectedWeights(c, prefix: "")))
            stateOfLayer = 0  // no recurrent state: the key/value cache grows with the context instead
        }
        parameterCount = CheckedSize.sum(global, CheckedSize.product(layer, numberOfLayers))
        stateBytes = CheckedSize.product(4, numberOfLayers, stateOfLayer)
    }

    /// Refuses weights larger than this machine's physical memory; `path` names the config.json.
    public func verifyFits(path: String, physicalMemory: Int = MachineLimits.physicalMemoryBytes) throws(LoadingError) {
        guard let bytes = weightBytes, bytes <= physicalMemory else {
            throw .exceedsMemory(path: path, needed: weightBytes.map(ModelSummary.bytes) ?? "more than \(Int.max) bytes",
                                 available: ModelSummary.bytes(physicalMemory))
        }
    }

    /// Fails fast when the checkpoint's tensor names hold another number of layers than config.json says
    /// (`backbone.layers.N.` of every checkpoint name, compared before the model's own names are built).
    public func verifyLayers(_ tensorNames: some Sequence<String>, directory: String) throws(LoadingError) {
        var found = 0
        for name in tensorNames {
            guard let range = name.range(of: "layers.") else { continue }
            let rest = name[range.upperBound...]
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard rest.dropFirst(digits.count).first == ".", let index = Int(digits), index < Int.max else { continue }
            found = max(found, index + 1)
        }
        if found != numberOfLayers {
            throw .layerCountMismatch(directory: directory, configured: numberOfLayers, found: found)
        }
    }
}
