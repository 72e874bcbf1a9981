import XCTest
import TensorCore

/// Shared by the test targets (module TestSupport). Seeded inputs and the one comparison every fast-vs-slow test uses: the largest absolute
/// difference, relative to the largest magnitude of the slow result, printed and checked.
public enum TestInputs {
    public static func normal(_ shape: [Int], std: Float = 1, seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor.randomNormal(shape, std: std, generator: &generator)
    }

    public static func uniform(_ shape: [Int], in range: ClosedRange<Float>, seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        let width = range.upperBound - range.lowerBound
        return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in range.lowerBound + width * generator.nextUniform() })
    }
}

/// max |fast − slow| / max |slow| (max |fast − slow| itself when the slow result is all zeros).
public func relativeDifference(_ fast: Tensor, _ slow: Tensor) -> (absolute: Float, relative: Float) {
    let absolute = fast.maxAbsDifference(slow)
    let scale = slow.data.reduce(Float(0)) { max($0, abs($1)) }
    return (absolute, scale > 0 ? absolute / scale : absolute)
}

/// Prints the difference and its tolerance, then asserts it.
public func assertAgree(_ fast: Tensor, _ slow: Tensor, relativeTolerance: Float, _ label: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(fast.shape, slow.shape, label, file: file, line: line)
    guard fast.shape == slow.shape else { return }
    let (absolute, relative) = relativeDifference(fast, slow)
    print("\(label): max |Δ| = \(absolute), relative \(relative) (tolerance \(relativeTolerance))")
    XCTAssertLessThanOrEqual(relative, relativeTolerance, label, file: file, line: line)
}

/// Bit-for-bit equality, for twins that run the same arithmetic in a different arrangement
/// (split calls, thread counts): any difference at all is a bug, not rounding.
public func assertIdentical(_ a: Tensor, _ b: Tensor, _ label: String, printing: Bool = true,
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, label, file: file, line: line)
    guard a.shape == b.shape else { return }
    if printing { print("\(label): max |Δ| = \(a.maxAbsDifference(b)) (tolerance 0, identical arithmetic)") }
    XCTAssertEqual(a.data.map(\.bitPattern), b.data.map(\.bitPattern), label, file: file, line: line)
}

/// The worst relative difference over many cases of one test, checked per case and printed once.
public struct WorstCase {
    public let name: String
    public let tolerance: Float
    public private(set) var relative: Float = 0, absolute: Float = 0, label = "", cases = 0

    public init(_ name: String, relativeTolerance: Float) { (self.name, tolerance) = (name, relativeTolerance) }

    public mutating func check(_ fast: Tensor, _ slow: Tensor, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(fast.shape, slow.shape, label, file: file, line: line)
        guard fast.shape == slow.shape else { return }
        let d = relativeDifference(fast, slow)
        XCTAssertLessThanOrEqual(d.relative, tolerance, "\(name) \(label): max |Δ| = \(d.absolute)", file: file, line: line)
        cases += 1
        if d.relative >= relative { (relative, absolute, self.label) = (d.relative, d.absolute, label) }
    }

    public func report() {
        print("\(name): worst of \(cases) cases at \(label): max |Δ| = \(absolute), relative \(relative) (tolerance \(tolerance))")
    }
}

/// Runs `body` with `Parallel.threads` set to `threads`, restoring the previous value.
public func withThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
    let saved = Parallel.threads
    Parallel.threads = threads
    defer { Parallel.threads = saved }
    return try body()
}
