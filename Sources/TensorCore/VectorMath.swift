/// Vectorized exp and softplus on 16 lanes. Swift's `Foundation.exp` is scalar; in the scan it is
/// called E·N times per token, so it must be vectorized: prefill is the GEMMs plus this scan (README, Speed).
/// Polynomials are the classic Cephes single-precision ones (relative error ~2 ulp).
public typealias Float32x16 = SIMD16<Float>

@inline(__always)
public func vexp(_ input: Float32x16) -> Float32x16 {
    // Clamp with compare-and-blend: SIMD.clamped keeps NaN semantics lane by lane and compiles to
    // scalar code, which made this the slowest part of the scan.
    var x = input.replacing(with: -87.33654, where: input .< -87.33654)
    x.replace(with: 88.37626, where: x .> 88.37626)
    // n = round(x / ln 2) via the 1.5·2^23 trick: the integer lands in the low mantissa bits.
    let magic: Float = 12_582_912
    let t = x * 1.442_695_04 + magic
    let n = t - magic
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = Float32x16(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    p = p * (r * r) + r + 1
    let nBits = unsafeBitCast(t, to: SIMD16<Int32>.self) &- Int32(bitPattern: magic.bitPattern)
    let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: Float32x16.self)
    return p * scale
}

/// log(1 + u) for u in [0, 1] (all softplus needs): Cephes' logf of w = 1 + u = 2^e·m, m in [√½, √2),
/// with the reduced argument m − 1 taken from u itself (u, or (u − 1)/2 past √2 − 1) rather than from
/// the rounded 1 + u, so that a small u keeps its digits: log(1 + u) ≈ u, as log1p.
@inline(__always)
func vlog1pUnit(_ u: Float32x16) -> Float32x16 {
    let big = u .> 0.414_213_56
    let e = Float32x16(repeating: 0).replacing(with: 1, where: big)
    let x = u.replacing(with: (u - 1) * 0.5, where: big)
    let z = x * x
    var p = Float32x16(repeating: 7.037_683_629_2e-2)
    p = p * x - 1.151_461_031_0e-1
    p = p * x + 1.167_699_874_0e-1
    p = p * x - 1.242_014_084_6e-1
    p = p * x + 1.424_932_278_7e-1
    p = p * x - 1.666_805_766_5e-1
    p = p * x + 2.000_071_476_5e-1
    p = p * x - 2.499_999_399_3e-1
    p = p * x + 3.333_333_117_4e-1
    var y = p * x * z
    y = y - e * 2.121_944_4e-4
    y = y - 0.5 * z
    return x + y + e * 0.693_359_375
}

/// softplus(x) = log(1 + eˣ) = max(x, 0) + log(1 + e^−|x|); equals x past the kernels' threshold of
/// 20 to within 2e-9.
@inline(__always)
public func vsoftplus(_ x: Float32x16) -> Float32x16 {
    let u = vexp(-abs(x))
    return x.replacing(with: 0, where: x .< 0) + vlog1pUnit(u)
}

@inline(__always)
public func vsilu(_ x: Float32x16) -> Float32x16 { x / (1 + vexp(-x)) }

/// Σ lanes as a tree (halves added pairwise): four dependent adds, where `sum()` chains fifteen in lane
/// order — per output row of a decode matrix–vector product that chain was the row's critical path.
@inline(__always)
func treeSum(_ v: Float32x16) -> Float {
    let eight = v.lowHalf + v.highHalf, four = eight.lowHalf + eight.highHalf, two = four.lowHalf + four.highHalf
    return two[0] + two[1]
}

@inline(__always)
func abs(_ x: Float32x16) -> Float32x16 { x.replacing(with: -x, where: x .< 0) }

/// `width` ≤ 16 floats at p into the first lanes (the rest zero).
@inline(__always)
func vload(_ p: UnsafePointer<Float>, _ width: Int) -> Float32x16 {
    if width == 16 { return UnsafeRawPointer(p).loadUnaligned(as: Float32x16.self) }
    var v = Float32x16()
    for i in 0..<width { v[i] = p[i] }
    return v
}

/// The first `width` ≤ 16 lanes of v to p.
@inline(__always)
func vstore(_ v: Float32x16, _ p: UnsafeMutablePointer<Float>, _ width: Int) {
    if width == 16 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float32x16.self); return }
    for i in 0..<width { p[i] = v[i] }
}

/// Applies a 16-lane function to every element of `values` (the tail is padded, not scalar), a large array
/// (a prompt chunk's activations) split across the workers.
@inline(__always)
func mapInPlace(_ values: inout [Float], _ f: (Float32x16) -> Float32x16) {
    let n = values.count
    values.withUnsafeMutableBufferPointer { p in
        forEachVectorRange(n) { mapInPlace(p.baseAddress! + $0.lowerBound, count: $0.count, f) }
    }
}

/// `body` over 0 ..< n in ranges that start at multiples of 16, split across the workers from 2¹⁶ elements on:
/// for element-wise passes, whose values do not depend on the split.
@inline(__always)
func forEachVectorRange(_ n: Int, _ body: (Range<Int>) -> Void) {
    let vectors = (n + 15) / 16
    Parallel.forEachRange(vectors, granularity: n < 1 << 16 ? max(vectors, 1) : 256) { body(($0.lowerBound * 16)..<min($0.upperBound * 16, n)) }
}

/// The same over `count` floats at `values`.
@inline(__always)
func mapInPlace(_ values: UnsafeMutablePointer<Float>, count n: Int, _ f: (Float32x16) -> Float32x16) {
    var i = 0
    while i < n {
        let width = Swift.min(16, n - i)
        vstore(f(vload(values + i, width)), values + i, width)
        i += 16
    }
}
