import TensorCore

/// The keep/drop decisions of LoRA dropout (torch `nn.Dropout(p)` in training: an element is zeroed with
/// probability p, the others are scaled by 1/(1 − p)), drawn from a counter-based hash instead of a running
/// generator, so that recomputing a block in the backward (`recomputeLayers`) sees the same mask and no mask
/// is stored. Element (row t, column j) of a [L, n] input at a module whose mask stream is `stream`:
///   h = SplitMix64 output number (t·n + j) of the seed `stream`,  dropped ⟺ (h >> 40) < p·2²⁴
/// and a module's stream is SplitMix64(pass seed ⊕ FNV-1a-64(module path)), so every module and every pass
/// (ReMamba's stage 1 and stage 2 are two) draws its own mask. scripts/fixtures/lora_dropout.py writes the
/// same masks into peft's dropout modules.
public struct DropoutMask: Sendable, Equatable {
    /// p, the probability of dropping an element.
    public let probability: Double
    let passSeed: UInt64
    let stream: UInt64

    public init(probability: Double, passSeed: UInt64, module: String) {
        precondition(probability >= 0 && probability < 1, "DropoutMask: probability \(probability) outside [0, 1)")
        (self.probability, self.passSeed) = (probability, passSeed)
        stream = Self.splitMix(passSeed ^ Self.fnv1a(module))
    }

    /// The factor element `index` (= t·n + j) of the input is multiplied by: 0 or 1/(1 − p).
    @inline(__always)
    func factor(_ index: Int, threshold: Double, kept: Float) -> Float {
        let h = Self.splitMix(stream &+ UInt64(index) &* Self.gamma)
        return Double(h >> 40) < threshold ? 0 : kept
    }

    /// The factors (0 or 1/(1 − p)) of rows [firstRow, firstRow + rows) of a [L, columns] input; nil when p = 0.
    func factors(rows: Int, columns n: Int, firstRow: Int) -> Tensor? {
        guard probability > 0 else { return nil }
        let threshold = probability * 16_777_216, kept = Float(1 / (1 - probability))
        return Tensor(shape: [rows, n], data: (0..<(rows * n)).map { factor(firstRow * n + $0, threshold: threshold, kept: kept) })
    }

    /// x ⊙ factors (x itself when there are none).
    static func scale(_ x: Tensor, by factors: Tensor?) -> Tensor {
        guard let factors else { return x }
        var out = x
        for i in 0..<out.count { out.data[i] *= factors.data[i] }
        return out
    }

    /// x ⊙ mask / (1 − p) for a block of rows starting at row `firstRow` of the module's input.
    func apply(_ x: Tensor, firstRow: Int) -> Tensor {
        Self.scale(x, by: factors(rows: x.rows, columns: x.columns, firstRow: firstRow))
    }

    /// The next pass's seed from this pass's (ReMamba's stage 2 from stage 1).
    static func nextPass(_ seed: UInt64) -> UInt64 { splitMix(seed) }

    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// SplitMix64's output for state z (z advanced by γ, then mixed).
    static func splitMix(_ z: UInt64) -> UInt64 {
        var r = z &+ gamma
        r = (r ^ (r >> 30)) &* 0xBF58_476D_1CE4_E5B9
        r = (r ^ (r >> 27)) &* 0x94D0_49BB_1331_11EB
        return r ^ (r >> 31)
    }

    /// FNV-1a, 64 bits, of the UTF-8 bytes (Swift's `hashValue` changes between processes).
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in s.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}
