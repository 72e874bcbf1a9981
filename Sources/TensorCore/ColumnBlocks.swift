/// Column blocks of row-major matrices [L, columns]: the splits of a projection's output into its parts
/// (Mamba's in_proj → (x, z), x_proj → (Δ low rank, B, C); Mamba2's in_proj → (z, xBC, dt)), and their
/// inverse for the gradients. Inference and training both use these.
public enum ColumnBlocks {
    /// Columns [begin, begin + width) of m [L, columns].
    public static func slice(_ m: Tensor, _ begin: Int, _ width: Int) -> Tensor {
        let (l, c) = (m.rows, m.columns)
        precondition(begin >= 0 && begin + width <= c, "ColumnBlocks.slice: columns \(begin)..<\(begin + width) of \(m.shape)")
        var out = [Float]()
        out.reserveCapacity(l * width)
        for t in 0..<l { out.append(contentsOf: m.data[(t * c + begin)..<(t * c + begin + width)]) }
        return Tensor(shape: [l, width], data: out)
    }

    /// Columns [0, a) and [a, a + b) of a [L, a + b] matrix.
    public static func split(_ m: Tensor, _ a: Int, _ b: Int) -> (Tensor, Tensor) {
        precondition(m.columns == a + b, "ColumnBlocks.split: \(m.shape) into \(a) + \(b)")
        return (slice(m, 0, a), slice(m, a, b))
    }

    /// The parts side by side: [L, Σ widths].
    public static func concatenate(_ parts: [Tensor]) -> Tensor {
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

    /// m[t, :] += v for every row t (a bias [C] added to m [L, C]).
    public static func addToEveryRow(_ m: inout Tensor, _ v: Tensor) {
        let c = m.columns
        precondition(v.count == c, "ColumnBlocks.addToEveryRow: \(v.shape) onto \(m.shape)")
        let rows = m.rows
        m.data.withUnsafeMutableBufferPointer { p in
            Parallel.forEachRange(rows, granularity: rows * c < 1 << 16 ? max(rows, 1) : 16) {
                addToEveryRow(p.baseAddress! + $0.lowerBound * c, rows: $0.count, v)
            }
        }
    }

    /// The same on `rows` rows of v.count floats at m (the decode step's scratch).
    public static func addToEveryRow(_ m: UnsafeMutablePointer<Float>, rows: Int, _ v: Tensor) {
        let c = v.count
        v.data.withUnsafeBufferPointer { v in for t in 0..<rows { for j in 0..<c { m[t * c + j] += v[j] } } }
    }
}
