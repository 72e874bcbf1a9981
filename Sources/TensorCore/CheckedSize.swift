/// Sizes computed from untrusted numbers (config.json, file headers): products and sums that report an
/// overflow as nil instead of trapping, so the caller can refuse the input with the numbers it was given.
public enum CheckedSize {
    /// The product of `factors`, or nil if it overflows Int (or a factor is negative).
    public static func product<S: Sequence<Int>>(_ factors: S) -> Int? {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (product, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            result = product
        }
        return result
    }

    /// The product of sizes that may already have overflowed (nil), nil if any is or if the product overflows.
    public static func product(_ factors: Int?...) -> Int? {
        factors.contains(nil) ? nil : product(factors.map { $0! })
    }

    /// The sum of sizes that may already have overflowed (nil), nil if any is or if the sum overflows Int.
    public static func sum(_ terms: Int?...) -> Int? { sum(terms) }

    public static func sum(_ terms: [Int?]) -> Int? {
        var result = 0
        for term in terms {
            guard let term else { return nil }
            let (sum, overflow) = result.addingReportingOverflow(term)
            if overflow { return nil }
            result = sum
        }
        return result
    }
}
