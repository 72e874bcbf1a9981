import Foundation
import MambaLM
@testable import MambaTraining
import TensorCore

/// Tiny random Mamba-1 models and token data for the trainer's tests.
enum TinyTraining {
    static func configuration(vocabulary: Int = 24, hidden: Int = 16, layers: Int = 2) -> MambaConfiguration {
        MambaConfiguration(vocabularySize: vocabulary, hiddenSize: hidden, stateSize: 4, numberOfLayers: layers)
    }

    static func parameters(_ c: MambaConfiguration, seed: UInt64 = 1) -> NamedTensors {
        WeightMap.random(MambaModel.expectedWeights(c), seed: seed).tensors
    }

    /// `count` sequences of `length` seeded random tokens, loss on every next token.
    static func randomExamples(count: Int, length: Int, vocabulary: Int, seed: UInt64 = 7) -> [TrainingExample] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let ids = (0..<length).map { _ in Int(generator.next() % UInt64(vocabulary)) }
            return TrainingExample(ids: ids, targets: MambaGradients.nextTokenTargets(ids))
        }
    }

    static func scratchDirectory(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("remamba-\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
