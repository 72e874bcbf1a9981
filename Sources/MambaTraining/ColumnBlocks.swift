import TensorCore

/// Column blocks of row-major matrices: the splits of in_proj's output into (x, z) and of x_proj's into
/// (Δ low rank, B, C), and their inverse for the gradients.
enum ColumnBlocks {
    /// Columns [begin, begin + width) of m [L, columns].
    static func slice(_ m: Tensor, _ begin: Int, _ width: Int) -> Tensor {
        let (l, c) = (m.rows, m.columns)
        var out = [Float](repeating: 0, count: l * width)
        m.data.withUnsafeBufferPointer { p in
            for t in 0..<l { for j in 0..<width { out[t * width + j] = p[t * c + begin + j] } }
        }
        return Tensor(shape: [l, width], data: out)
    }

    /// The parts side by side: [L, Σ widths].
    static func concatenate(_ parts: [Tensor]) -> Tensor {
        let l = parts[0].rows
        let total = parts.reduce(0) { $0 + $1.columns }
        var out = [Float](repeating: 0, count: l * total)
        var begin = 0
        for part in parts {
            precondition(part.rows == l, "ColumnBlocks.concatenate: row counts differ")
            let w = part.columns
            for t in 0..<l { for j in 0..<w { out[t * total + begin + j] = part.data[t * w + j] } }
            begin += w
        }
        return Tensor(shape: [l, total], data: out)
    }
}
