import XCTest
@testable import MambaTraining
import TensorCore

final class CrossEntropyTests: XCTestCase {
    /// Central finite differences of the loss (computed in Double) against the analytic gradient.
    /// Step 1e-3 on logits of O(1): truncation error ~1e-7, Float32 storage of the logits ~1e-7 relative,
    /// so 1e-4 absolute is a safe bound for gradients of O(1/n).
    func testGradientMatchesFiniteDifferences() {
        var generator = SeededGenerator(seed: 3)
        let logits = Tensor.randomNormal([5, 7], generator: &generator)
        let targets: [Int?] = [1, nil, 6, 0, 3]
        let analytic = CrossEntropy.backward(logits: logits, targets: targets)
        var worst: Float = 0
        for i in 0..<logits.count {
            var plus = logits, minus = logits
            plus.data[i] += 1e-3
            minus.data[i] -= 1e-3
            let numeric = (CrossEntropy.forward(logits: plus, targets: targets) - CrossEntropy.forward(logits: minus, targets: targets)) / 2e-3
            worst = max(worst, abs(Float(numeric) - analytic.data[i]))
        }
        print("cross-entropy: max |analytic − finite difference| = \(worst)")
        XCTAssertLessThan(worst, 1e-4)
        // Rows without a target get no gradient.
        XCTAssertEqual(Array(analytic.data[7..<14]), [Float](repeating: 0, count: 7))
    }

    func testUniformLogitsGiveLogV() {
        let loss = CrossEntropy.forward(logits: Tensor(zeros: [3, 10]), targets: [0, 1, 2])
        XCTAssertEqual(loss, Foundation.log(10.0), accuracy: 1e-12)
    }
}
