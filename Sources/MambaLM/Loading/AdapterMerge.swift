import Foundation
import TensorCore

/// What PEFT's `PeftModel.from_pretrained(base, adapter).merge_and_unload()` does to the base weights,
/// decided from the headers alone (so every error comes before any tensor data is read):
/// 1. whole tensors (modules_to_save, saved base layers) replace the base's, as loading the adapter does;
/// 2. every LoRA pair adds its delta, scale = lora_alpha / r (or / √r with rsLoRA):
///      nn.Linear     W [out, in] += scale · B [out, r] · A [r, in]
///      nn.Embedding  W [V, D]    += scale · (B [D, r] · A [r, V])ᵀ
/// Tied embeddings (no `lm_head.weight` among the expected names): lm_head *is* the embedding matrix, so
/// both its LoRA delta and the embeddings' are added into that one matrix, as PEFT's merge does.
/// Strict: every adapter tensor must be used (or be one the model drops on purpose), shapes must agree.
struct AdapterMergePlan {
    struct Delta {
        let name: String          // the model's tensor it is added to
        let a: String, b: String  // adapter keys
        let isEmbedding: Bool
    }

    let scale: Float
    /// model name → adapter key, applied before the deltas.
    private(set) var replacements: [String: String] = [:]
    /// Further copies of a replaced tensor (the tied embeddings saved twice): must equal the first.
    private(set) var copies: [(name: String, key: String)] = []
    private(set) var deltas: [Delta] = []

    init(_ adapter: PEFTAdapter, expected: [String: [Int]], sanitize: (String) -> String?) throws(LoadingError) {
        let path = adapter.file.path
        let rank = adapter.configuration.rank
        scale = adapter.configuration.scale

        enum Target { case tensor(String), dropped, unknown }
        let tied = expected[BackboneTensors.lmHead.rawValue] == nil
        let embeddings = Self.embeddingsName(expected)
        func target(_ checkpointName: String) -> Target {
            let name = tied && checkpointName == BackboneTensors.lmHead.rawValue ? embeddings : checkpointName
            guard let modelName = sanitize(name) else { return .dropped }
            return expected[modelName] != nil ? .tensor(modelName) : .unknown
        }
        func shape(_ key: String) -> [Int] { adapter.file.entries[key]!.shape }

        var linear: [String: (a: String?, b: String?)] = [:], embedding: [String: (a: String?, b: String?)] = [:]
        for (key, role) in try adapter.roles() {
            switch role {
            case .whole(let name):
                switch target(name) {
                case .dropped: continue
                case .unknown: throw .unexpectedTensor(key: key, path: path)
                case .tensor(let modelName):
                    guard shape(key) == expected[modelName]! else {
                        throw .wrongShape(key: key, path: path, expected: expected[modelName]!, found: shape(key))
                    }
                    if replacements[modelName] == nil { replacements[modelName] = key } else { copies.append((modelName, key)) }
                }
            case .linearA(let module): linear[module, default: (nil, nil)].a = key
            case .linearB(let module): linear[module, default: (nil, nil)].b = key
            case .embeddingA(let module): embedding[module, default: (nil, nil)].a = key
            case .embeddingB(let module): embedding[module, default: (nil, nil)].b = key
            }
        }
        for (pairs, isEmbedding) in [(linear, false), (embedding, true)] {
            for (module, pair) in pairs.sorted(by: { $0.key < $1.key }) {
                guard let a = pair.a, let b = pair.b else {
                    throw .unsupported(path: path, what: "\"\(pair.a ?? pair.b!)\" has no matching \(pair.a == nil ? "A" : "B") factor")
                }
                let modelName: String
                switch target(module + ".weight") {
                case .dropped: continue
                case .unknown: throw .unexpectedTensor(key: a, path: path)
                case .tensor(let name): modelName = name
                }
                let w = expected[modelName]!
                guard w.count == 2 else {
                    throw .unsupported(path: path, what: "\"\(a)\": LoRA on \(modelName) of shape \(w) (only nn.Linear and nn.Embedding weights are implemented)")
                }
                // Linear W [out, in]: A [r, in], B [out, r].  Embedding W [V, D]: A [r, V], B [D, r].
                let (expectedA, expectedB) = isEmbedding ? ([rank, w[0]], [w[1], rank]) : ([rank, w[1]], [w[0], rank])
                guard shape(a) == expectedA else { throw .wrongShape(key: a, path: path, expected: expectedA, found: shape(a)) }
                guard shape(b) == expectedB else { throw .wrongShape(key: b, path: path, expected: expectedB, found: shape(b)) }
                deltas.append(Delta(name: modelName, a: a, b: b, isEmbedding: isEmbedding))
            }
        }
        try Self.checkTargetModules(adapter.configuration.targetModules, expected: expected, tied: tied,
                                    path: adapter.url.appendingPathComponent(PEFTAdapter.configurationName).path)
    }

    /// A `target_modules` name must be a module of this model with a 2-D weight (nn.Linear / nn.Embedding).
    /// A regular expression cannot be checked this way; the tensors themselves are, above.
    static func checkTargetModules(_ targets: AdapterConfiguration.TargetModules?, expected: [String: [Int]], tied: Bool,
                                   path: String) throws(LoadingError) {
        guard case .names(let names)? = targets else { return }
        var weights = expected
        if tied { weights[BackboneTensors.lmHead.rawValue] = expected[embeddingsName(expected)] }
        for target in names {
            let matching = weights.filter { name, _ in
                guard name.hasSuffix(".weight") else { return false }
                let module = String(name.dropLast(".weight".count))
                return module == target || module.hasSuffix("." + target)
            }
            if matching.isEmpty {
                throw .unsupported(path: path, what: "target module \"\(target)\": no module of this model is called so")
            }
            if let bad = matching.sorted(by: { $0.key < $1.key }).first(where: { $0.value.count != 2 }) {
                throw .unsupported(path: path, what: "target module \"\(target)\": \(bad.key) has shape \(bad.value); "
                                   + "LoRA is implemented for nn.Linear and nn.Embedding only")
            }
        }
    }

    /// The embedding matrix among the expected names (Mamba's backbone.embeddings.weight, Llama's model.embed_tokens.weight).
    static func embeddingsName(_ expected: [String: [Int]]) -> String {
        expected[LlamaModelTensors.embeddings.rawValue] != nil ? LlamaModelTensors.embeddings.rawValue : BackboneTensors.embeddings.rawValue
    }

    /// Applies the plan to the base weights (which lack the replaced tensors).
    func apply(to weights: inout WeightMap, from file: SafetensorsFile) throws(LoadingError) {
        for (name, key) in replacements { weights[name] = try file.tensor(key) }
        for (name, key) in copies {
            guard try file.tensor(key) == weights.tensorIfPresent(name) else {
                throw .unsupported(path: file.path, what: "\"\(key)\" and \"\(replacements[name]!)\" are different copies of "
                                   + "the one tied matrix \(name)")
            }
        }
        for delta in deltas {
            try Self.addDelta(to: &weights[delta.name], a: file.tensor(delta.a), b: file.tensor(delta.b),
                              scale: scale, isEmbedding: delta.isEmbedding)
        }
    }

    /// W += scale · B·A (Linear) or scale · (B·A)ᵀ = scale · Aᵀ·Bᵀ (Embedding), one GEMM into W.
    static func addDelta(to w: inout Tensor, a: Tensor, b: Tensor, scale: Float, isEmbedding: Bool) {
        let (rows, columns, rank) = (w.shape[0], w.shape[1], a.shape[0])
        a.data.withUnsafeBufferPointer { ap in
            b.data.withUnsafeBufferPointer { bp in
                w.data.withUnsafeMutableBufferPointer { wp in
                    if isEmbedding {
                        // Aᵀ [V, r] · Bᵀ [r, D]: A is stored [r, V], B [D, r].
                        BLAS.gemm(m: rows, n: columns, k: rank, a: ap.baseAddress!, b: bp.baseAddress!, transposeB: true,
                                  c: wp.baseAddress!, alpha: scale, beta: 1, transposeA: true)
                    } else {
                        // B [out, r] · A [r, in].
                        BLAS.gemm(m: rows, n: columns, k: rank, a: bp.baseAddress!, b: ap.baseAddress!, transposeB: false,
                                  c: wp.baseAddress!, alpha: scale, beta: 1)
                    }
                }
            }
        }
    }
}

extension WeightMap {
    /// The base model's weights with `adapter` merged in (see `AdapterMergePlan`); without an adapter,
    /// exactly `load(from:expected:sanitize:)`. Tensors the adapter replaces are not read from the base,
    /// and need not be in it (ReMamba's Q/K/V and ret_bias on a plain base).
    public static func load(from directory: ModelDirectory, adapter: PEFTAdapter?, expected: [String: [Int]],
                            sanitize: @escaping (String) -> String?) throws(LoadingError) -> WeightMap {
        guard let adapter else { return try load(from: directory, expected: expected, sanitize: sanitize) }
        let plan = try AdapterMergePlan(adapter, expected: expected, sanitize: sanitize)
        let replaced = Set(plan.replacements.keys)
        var weights = try load(from: directory, expected: expected.filter { !replaced.contains($0.key) }) { name in
            guard let modelName = sanitize(name) else { return nil }
            return replaced.contains(modelName) ? nil : modelName
        }
        try plan.apply(to: &weights, from: adapter.file)
        return weights
    }
}
