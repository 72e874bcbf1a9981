import Foundation

/// LongBench's eval.py: `scorer` (100 × mean of the per-sample max over answers, rounded to 2 decimals) and
/// `scorer_e` (the same per length bucket: < 4000, < 8000, the rest).
public enum LongBenchScorer {
    public static let buckets = ["0-4k", "4-8k", "8k+"]

    public static func bucket(length: Int) -> String { length < 4000 ? "0-4k" : length < 8000 ? "4-8k" : "8k+" }

    /// `round(100 * total_score / len(predictions), 2)` with a left-to-right sum as eval.py's loop.
    public static func score(_ samples: [Double]) -> Double {
        var total = 0.0
        for s in samples { total += s }
        return pythonRound(100 * total / Double(samples.count), digits: 2)
    }

    /// `round(100 * np.mean(scores), 2)`: NaN for an empty bucket, as numpy gives.
    public static func bucketScore(_ samples: [Double]) -> Double {
        if samples.isEmpty { return .nan }
        return pythonRound(100 * (numpySum(samples) / Double(samples.count)), digits: 2)
    }

    /// Python's `round(x, n)`: correctly rounded from the exact binary value (glibc's printf is exact too).
    public static func pythonRound(_ x: Double, digits: Int) -> Double {
        guard x.isFinite else { return x }
        return Double(String(format: "%.\(digits)f", x))!
    }

    /// `np.add.reduce` of a float64 array: the first element plus the pairwise sum of the rest.
    static func numpySum(_ values: [Double]) -> Double {
        guard let first = values.first else { return 0 }
        return first + pairwiseSum(values[1...])
    }

    /// numpy's `pairwise_sum`: blocks of ≤ 128 with 8 accumulators, halves above that.
    static func pairwiseSum(_ a: ArraySlice<Double>) -> Double {
        let n = a.count, base = a.startIndex
        if n < 8 {
            var sum = 0.0
            for v in a { sum += v }
            return sum
        }
        if n <= 128 {
            var r = Array(a[base..<(base + 8)])
            var i = 8
            while i < n - n % 8 {
                for k in 0..<8 { r[k] += a[base + i + k] }
                i += 8
            }
            var sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n { sum += a[base + i]; i += 1 }
            return sum
        }
        var half = n / 2
        half -= half % 8
        return pairwiseSum(a[base..<(base + half)]) + pairwiseSum(a[(base + half)...])
    }
}
