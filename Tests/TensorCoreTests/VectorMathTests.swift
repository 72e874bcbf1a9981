import XCTest
import TensorCore

/// vexp and vsoftplus (16 lanes) against Foundation in Double, by relative error over [−87, 88]:
/// the range where exp is a normal Float32.
final class VectorMathTests: XCTestCase {
    /// 2¹⁸ evenly spaced points over [−87, 88], 16 at a time.
    static let grid: [Float] = (0..<(1 << 18)).map { Float(-87 + 175 * Double($0) / Double((1 << 18) - 1)) }

    func maxRelativeError(_ f: (Float32x16) -> Float32x16, _ reference: (Double) -> Double) -> (error: Double, at: Float) {
        var worst = (error: 0.0, at: Float(0))
        var i = 0
        while i < Self.grid.count {
            var v = Float32x16()
            for lane in 0..<16 { v[lane] = Self.grid[i + lane] }
            let out = f(v)
            for lane in 0..<16 {
                let x = v[lane]
                let expected = reference(Double(x))
                let error = abs(Double(out[lane]) - expected) / abs(expected)
                if !(error <= worst.error) { worst = (error, x) }   // NaN counts as worst
            }
            i += 16
        }
        return worst
    }

    // Cephes' single-precision exp is accurate to ~2 ulp relative (2⁻²² ≈ 2.4e-7); that is the bound.
    func testExpRelativeError() {
        let (error, x) = maxRelativeError(vexp) { Foundation.exp($0) }
        print("vexp on [-87, 88]: max relative error \(error) at x = \(x) (tolerance 2.4e-7)")
        XCTAssertLessThanOrEqual(error, 2.4e-7)
    }

    // softplus(x) = log1p(eˣ), in Double. Same 2-ulp budget (an exp, a log and one addition measure
    // ~1.3e-7); for x ≪ 0 the result is ≈ eˣ and must keep its relative accuracy, as PyTorch's
    // log1p(exp(x)) does (before the fix, softplus(−20) was 0).
    func testSoftplusRelativeError() {
        let (error, x) = maxRelativeError(vsoftplus) { Foundation.log1p(Foundation.exp($0)) }
        print("vsoftplus on [-87, 88]: max relative error \(error) at x = \(x) (tolerance 2.4e-7)")
        XCTAssertLessThanOrEqual(error, 2.4e-7)
    }

    /// Past the grid, exp saturates instead of overflowing: finite, positive, monotone.
    func testExpSaturatesFinite() {
        let x = Float32x16(-1e4, -1000, -100, -88, -87.4, -87.3, 0, 1, 88, 88.3, 88.376, 88.38, 88.72, 89, 100, 1e4)
        let y = vexp(x)
        for lane in 0..<16 {
            XCTAssertTrue(y[lane].isFinite && y[lane] > 0, "vexp(\(x[lane])) = \(y[lane])")
            if lane > 0 { XCTAssertGreaterThanOrEqual(y[lane], y[lane - 1], "vexp monotone at \(x[lane])") }
        }
        XCTAssertEqual(y[6], 1)
    }
}
