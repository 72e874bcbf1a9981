import Foundation
import MambaLM
import TensorCore
import XCTest

/// `remamba generate --save-state / --load-state`: a saved sequence reads back with its ids and state, continuing
/// from it equals a fresh prefill of the whole token sequence, and a file of another model or settings (or not
/// written by --save-state) is refused naming the metadata key.
final class SavedSequenceTests: XCTestCase {
    let document = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7], question = [9, 3, 2, 3, 8]

    func scratch() throws -> URL {
        let directory = try Fixtures.temporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory.appendingPathComponent("document.safetensors")
    }

    func testContinuingALoadedSequenceEqualsAFreshPrefill() throws {
        let model = try Fixtures.model("tiny_a")
        var state = model.makeState()
        _ = try model.prefill(document, state: &state)
        let url = try scratch()
        try SavedSequence(ids: document, state: state).write(to: url, model: "tiny_a")
        let saved = try SavedSequence.read(from: url, model: "tiny_a", like: model.makeState())
        XCTAssertEqual(saved.ids, document)
        XCTAssertEqual(saved.state, state)
        var continued = saved.state
        let logits = try model.continueSequence(question, state: &continued)
        var fresh = model.makeState()
        let expected = try model.prefill(document + question, state: &fresh)
        let difference = logits.maxAbsDifference(expected)
        print("tiny_a: loaded state + question vs fresh prefill of document + question, max |Δlogits| = \(difference)")
        XCTAssertLessThanOrEqual(difference, 1e-5, "float32 sums in another order (one prefill vs two pieces)")
        XCTAssertEqual(continued.position, fresh.position)
    }

    func testAnotherModelOrSettingsIsRefused() throws {
        let model = try Fixtures.model("tiny_a")
        let url = try scratch()
        try SavedSequence(ids: [1, 2], state: model.makeState()).write(to: url, model: "tiny_a ratio=0.1")
        XCTAssertThrowsError(try SavedSequence.read(from: url, model: "tiny_a ratio=0.2", like: model.makeState())) { error in
            print("expected error: \(error)")
            XCTAssertEqual(error as? LoadingError, .invalidValue(path: url.path, key: "__metadata__.model", value: "tiny_a ratio=0.1",
                                                                expected: "the model and settings of this run: tiny_a ratio=0.2"))
        }
    }

    func testAPlainStateFileIsRefused() throws {
        let model = try Fixtures.model("tiny_a")
        let url = try scratch()
        try model.makeState().save(to: url)
        XCTAssertThrowsError(try SavedSequence.read(from: url, model: "tiny_a", like: model.makeState())) { error in
            print("expected error: \(error)")
            XCTAssertEqual(error as? LoadingError,
                           .missingKey(path: url.path, key: "__metadata__.model / __metadata__.ids (not a file of --save-state)"))
        }
    }
}
