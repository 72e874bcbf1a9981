import TensorCore

/// The tensors of one module of a checkpoint (a layer, the model around its layers, ReMamba's additions),
/// each declared once, as llama.cpp's `create_tensor` and mlx-swift's `@ModuleInfo(key:)` do: the case's raw
/// value is its checkpoint name under the module's prefix, `shape(_:)` its shape, `streamed` how it is kept.
/// Inference (`ModuleWeights`), training (`named`) and the exporters (`expectedWeights`, `StreamedMatrices`)
/// all read these declarations; no other place spells a checkpoint name.
public protocol CheckpointTensors: RawRepresentable<String>, CaseIterable, Hashable, Sendable {
    associatedtype Configuration
    /// The tensor's shape under `c`, or nil when `c` has no such tensor (a bias that is off, a tied lm_head).
    func shape(_ c: Configuration) -> TensorShape?
    /// The matrices read every token, kept as stored (`Weight`): what `--dtype` and `remamba quantize`
    /// convert. Every other tensor is small and is decoded once to a Float32 `Tensor`.
    static var streamed: Set<Self> { get }
}

/// A tensor's shape in the checkpoint and in the code (they differ only where the code drops a
/// dimension of size 1: the depthwise conv's [X, 1, k] is [X, k]).
public struct TensorShape: Sendable, Equatable, ExpressibleByArrayLiteral {
    public let checkpoint: [Int]
    public let code: [Int]

    /// No check that the element counts agree: a hostile config.json may overflow them (`ModelFootprint`
    /// reports that); the shapes are checked against the files at load.
    public init(checkpoint: [Int], code: [Int]) { (self.checkpoint, self.code) = (checkpoint, code) }

    public init(arrayLiteral elements: Int...) { self.init(checkpoint: elements, code: elements) }
}

extension CheckpointTensors {
    /// The full name under `prefix` ("backbone.layers.3"; "" for a module at the top).
    public func name(prefix: String) -> String { prefix.isEmpty ? rawValue : "\(prefix).\(rawValue)" }

    /// The PyTorch module that owns the tensor (its name without `.weight`/`.bias`): LoRA's and PEFT's unit.
    public var module: String {
        for suffix in [".weight", ".bias"] where rawValue.hasSuffix(suffix) { return String(rawValue.dropLast(suffix.count)) }
        return rawValue
    }

    /// Name → checkpoint shape of every tensor `c` has, under `prefix`.
    public static func expectedWeights(_ c: Configuration, prefix: String) -> [String: [Int]] {
        var w: [String: [Int]] = [:]
        for t in allCases { if let shape = t.shape(c) { w[t.name(prefix: prefix)] = shape.checkpoint } }
        return w
    }

    /// (name under `prefix`, tensor in its checkpoint shape) of every tensor `value` gives, in declaration order
    /// (the exporters' and the trainer's view of a module's parameters).
    public static func named(_ c: Configuration, prefix: String, _ value: (Self) -> Tensor?) -> [(String, Tensor)] {
        allCases.compactMap { t in
            guard let shape = t.shape(c), let v = value(t) else { return nil }
            return (t.name(prefix: prefix), v.reshaped(shape.checkpoint))
        }
    }

    /// Whether the full `name` is one of this module's streamed matrices, under any prefix.
    static func isStreamed(_ name: String) -> Bool {
        streamed.contains { name == $0.rawValue || name.hasSuffix("." + $0.rawValue) }
    }
}

/// A strictly loaded weight map seen through one module's declarations: each tensor read by its case.
public struct ModuleWeights<Tensors: CheckpointTensors> {
    public let map: WeightMap
    public let prefix: String
    public let configuration: Tensors.Configuration

    public init(_ map: WeightMap, prefix: String = "", configuration: Tensors.Configuration) {
        (self.map, self.prefix, self.configuration) = (map, prefix, configuration)
    }

    /// A streamed matrix, as stored.
    public func weight(_ t: Tensors) -> Weight {
        precondition(Tensors.streamed.contains(t), "ModuleWeights: \(t.rawValue) is not a streamed matrix")
        return map.weight(t.name(prefix: prefix))
    }

    /// A tensor the configuration has, as Float32 in its code shape.
    public func tensor(_ t: Tensors) -> Tensor {
        guard let value = tensorIfPresent(t) else { preconditionFailure("ModuleWeights: \(t.name(prefix: prefix)) was verified but is missing") }
        return value
    }

    /// A tensor as Float32 in its code shape, nil when the configuration has none (optional biases).
    public func tensorIfPresent(_ t: Tensors) -> Tensor? {
        guard let shape = t.shape(configuration), let value = map.tensorIfPresent(t.name(prefix: prefix)) else { return nil }
        return value.reshaped(shape.code)
    }
}
