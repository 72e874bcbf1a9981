import Foundation
import TensorCore

/// What a configuration will allocate, computed from config.json alone in overflow-checked arithmetic
/// before any tensor exists, so that a config too large for this machine (or for Int) is refused with the
/// numbers instead of aborting in an allocation, and a config whose layers are not those of the weights
/// fails before the model's tensor names are listed.
public struct ModelFootprint: Sendable, Equatable {
    /// Parameters of the model (nil: more than Int holds).
    public let parameterCount: Int?
    /// Bytes of the recurrent state of one sequence (conv + SSM state of every layer, Float32).
    public let stateBytes: Int?
    public let numberOfLayers: Int
    /// Shapes of the tensors outside the layers, and of one layer (names without the layer prefix).
    let globalShapes: [String: [Int]]
    let layerShapes: [String: [Int]]

    /// Bytes of the weights as the model holds them, nil when beyond Int: the streamed matrices
    /// (`StreamedMatrices`) stored as `type` — a matrix whose rows Q8_0 cannot split into blocks of 32 keeps
    /// `kept`, the type it has in the checkpoint — and every other tensor as Float32, as the models read them.
    public func weightBytes(matrices type: WeightType, kept: WeightType = .f32) -> Int? {
        func bytes(_ shapes: [String: [Int]]) -> Int? {
            CheckedSize.sum(shapes.map { name, shape in
                guard StreamedMatrices.contains(name) else { return CheckedSize.product(CheckedSize.product(shape), 4) }
                return Self.matrixBytes(shape, type.canStore(columns: shape.last ?? 0) ? type : kept)
            })
        }
        return CheckedSize.sum(bytes(globalShapes), CheckedSize.product(bytes(layerShapes), numberOfLayers))
    }

    /// Bytes of one matrix [rows, columns] of `type`: its values, and for Q8_0 one Float16 scale per block of 32
    /// (docs/QUANTIZATION.md).
    static func matrixBytes(_ shape: [Int], _ type: WeightType) -> Int? {
        let values = CheckedSize.product(CheckedSize.product(shape), type.valueSize)
        guard type == .q8_0 else { return values }
        let blocks = CheckedSize.product(CheckedSize.product(shape.dropLast()), (shape.last ?? 0) / WeightType.blockSize)
        return CheckedSize.sum(values, CheckedSize.product(blocks, 2))
    }

    public init(_ architecture: ModelConfiguration.Architecture) {
        /// Σ over tensors of Π shape.
        func parameters(_ shapes: [String: [Int]]) -> Int? { CheckedSize.sum(shapes.values.map { CheckedSize.product($0) }) }
        let stateOfLayer: Int?
        switch architecture {
        case .mamba(let c):
            var globals = c
            globals.numberOfLayers = 0
            numberOfLayers = c.numberOfLayers
            (globalShapes, layerShapes) = (MambaModel.expectedWeights(globals), MambaTensors.expectedWeights(c, prefix: ""))
            // conv [E, K] + ssm [E, N]
            stateOfLayer = CheckedSize.product(c.expand, c.hiddenSize, CheckedSize.sum(c.stateSize, c.convolutionKernel))
        case .mamba2(let c):
            var globals = c
            globals.numberOfLayers = 0
            numberOfLayers = c.numberOfLayers
            (globalShapes, layerShapes) = (Mamba2Model.expectedWeights(globals), Mamba2Tensors.expectedWeights(c, prefix: ""))
            // ssm [H, P, N] + conv [E + 2·G·N, K]
            stateOfLayer = CheckedSize.sum(CheckedSize.product(c.numberOfHeads, c.headDimension, c.stateSize),
                                           CheckedSize.product(c.convolutionDimension, c.convolutionKernel))
        case .llama(let c):
            var globals = c
            globals.numberOfLayers = 0
            numberOfLayers = c.numberOfLayers
            (globalShapes, layerShapes) = (LlamaModel.expectedWeights(globals), LlamaTensors.expectedWeights(c, prefix: ""))
            stateOfLayer = 0  // no recurrent state: the key/value cache grows with the context instead
        }
        parameterCount = CheckedSize.sum(parameters(globalShapes), CheckedSize.product(parameters(layerShapes), numberOfLayers))
        stateBytes = CheckedSize.product(4, numberOfLayers, stateOfLayer)
    }

    /// Refuses weights larger than this machine's physical memory when the streamed matrices are held as
    /// `matrices` (the checkpoint's type, or the --dtype conversion asked for; `kept` as in `weightBytes`);
    /// `path` names the config.json.
    public func verifyFits(path: String, matrices type: WeightType, kept: WeightType = .f32,
                           physicalMemory: Int = MachineLimits.physicalMemoryBytes) throws(LoadingError) {
        let bytes = weightBytes(matrices: type, kept: kept)
        guard let bytes, bytes <= physicalMemory else {
            throw .exceedsMemory(path: path, needed: bytes.map(ModelSummary.bytes) ?? "more than \(Int.max) bytes",
                                 matrices: type.rawValue.uppercased(), available: ModelSummary.bytes(physicalMemory))
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
