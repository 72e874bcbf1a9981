import XCTest
import Foundation
@testable import MambaEval
import MambaLM
import TensorCore

/// Perplexity (generation's prefill + steps, window by window) against its slow twin: the logits of
/// every position from one full forward per window, log-softmax in Double.
final class PerplexityTests: XCTestCase {
    func testPerplexityEqualsMeanLogSoftmaxOfFullForwards() throws {
        let directory = try ModelDirectory(EvalFixtures.demoModel)
        let model = try XCTUnwrap(ModelLoader.load(directory) as? any Backbone)
        let ids = (0..<23).map { ($0 * 37 + 5) % model.vocabularySize }
        let window = 8
        let result = try Perplexity.evaluate(model: model, ids: ids, window: window)
        var total = 0.0, count = 0
        for begin in stride(from: 0, to: ids.count, by: window) {
            let piece = Array(ids[begin..<min(begin + window, ids.count)])
            guard piece.count >= 2 else { continue }
            let logits = try model.forward(piece)
            for k in 1..<piece.count {
                let row = Array(logits.row(k - 1)).map(Double.init)
                let top = row.max()!
                total -= row[piece[k]] - top - Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - top) })
                count += 1
            }
        }
        // 20 predicted tokens (windows of 8, 8, 7: 7 + 7 + 6); logits agree to ~1e-6 (steps vs chunked forward).
        XCTAssertEqual(result.predictedTokens, 20)
        XCTAssertEqual(count, 20)
        print("perplexity \(result.perplexity) vs forward \(Foundation.exp(total / Double(count)))")
        XCTAssertEqual(result.meanNegativeLogLikelihood, total / Double(count), accuracy: 1e-5)
    }
}
