import Foundation

/// A human-readable account of a model directory for `remamba info`.
public struct ModelSummary {
    public let text: String

    public init(_ directory: ModelDirectory) {
        var lines = ["model: \(directory.url.path)"]
        let c = directory.configuration
        let entries = directory.tensorFiles.map { $0.value.entries[$0.key]! }
        let scales = directory.tensorFiles.keys.filter { $0.hasSuffix(Q8Names.scalesSuffix) }.map { directory.tensorFiles[$0]!.entries[$0]! }
        func elements(_ list: [SafetensorsFile.Entry]) -> Int { list.reduce(0) { $0 + $1.shape.reduce(1, *) } }
        let parameters = elements(entries) - elements(scales)
        let storedBytes = entries.reduce(0) { $0 + ($1.end - $1.begin) }
        let state = ModelFootprint(c.architecture).stateBytes.map(Self.bytes) ?? "more than \(Int.max) bytes"
        switch c.architecture {
        case .mamba(let m):
            lines += [
                "architecture: Mamba (v1)\(c.modelType == "remamba" ? ", ReMamba checkpoint" : "")",
                "layers: \(m.numberOfLayers), d_model: \(m.hiddenSize), d_inner: \(m.innerSize), d_state: \(m.stateSize), "
                    + "dt_rank: \(m.timeStepRank), conv_kernel: \(m.convolutionKernel)",
                "vocabulary: \(m.vocabularySize), tied embeddings: \(m.tieWordEmbeddings), bias: \(m.useBias), conv bias: \(m.useConvolutionBias)",
                "recurrent state: \(state) (constant in sequence length)",
            ]
        case .mamba2(let m):
            lines += [
                "architecture: Mamba-2 (SSD)\(c.compressionDefaults != nil ? ", ReMamba2 checkpoint" : "")",
                "layers: \(m.numberOfLayers), d_model: \(m.hiddenSize), d_inner: \(m.innerSize), heads: \(m.numberOfHeads) × head_dim \(m.headDimension), "
                    + "groups: \(m.numberOfGroups), d_state: \(m.stateSize), conv_kernel: \(m.convolutionKernel), chunk_size: \(m.chunkSize)",
                "vocabulary: \(m.vocabularySize), tied embeddings: \(m.tieWordEmbeddings), bias: \(m.useBias), conv bias: \(m.useConvolutionBias), "
                    + "time_step_limit: [\(m.timeStepLimit.lowerBound), \(m.timeStepLimit.upperBound)]",
                "recurrent state: \(state) (constant in sequence length)",
            ]
        case .llama(let m):
            lines += Self.llamaLines(m)
        }
        if let d = c.compressionDefaults {
            lines.append("ReMamba defaults: s = \(d.start.map { "\($0)" } ?? "-"), p = \(d.length.map { "\($0)" } ?? "-"), ρ = \(d.ratio.map { "\($0)" } ?? "-")")
        }
        lines += [
            "parameters: \(parameters) (\(String(format: "%.1f", Double(parameters) / 1e6)) M, as stored)",
            "stored dtype: \(directory.storageDTypes.joined(separator: ", "))\(scales.isEmpty ? "" : " (Q8_0 matrices: I8 values, F16 scales)"); "
                + "matrices are read as stored, activations are Float32",
            "memory for the weights: \(Self.bytes(storedBytes)) as stored, memory-mapped (--dtype converts at load)",
            "tokenizer.json: \(directory.tokenizerURL == nil ? "absent" : "present")",
        ]
        text = lines.joined(separator: "\n")
    }

    static func bytes(_ n: Int) -> String {
        n >= 1 << 30 ? String(format: "%.2f GiB", Double(n) / Double(1 << 30))
            : n >= 1 << 20 ? String(format: "%.1f MiB", Double(n) / Double(1 << 20)) : String(format: "%.1f KiB", Double(n) / 1024)
    }
}
