@testable import Tokenization

/// The slow twin of `BPETrainer`: recounts every adjacent pair of every word before each merge and
/// takes the most frequent (smallest pair of ids on ties). Same vocabulary order and merge rule,
/// none of the bookkeeping; only for small corpora.
enum ReferenceBPETrainer {
    static func train(_ texts: [String], vocabularySize: Int, minFrequency: Int, specialTokens: [String])
        -> (tokens: [String], merges: [(left: Int, right: Int)]) {
        var tokens: [String] = []
        func id(_ token: String) -> Int {
            // Byte-wise comparison, as the library compares Rust Strings.
            if let found = tokens.firstIndex(where: { Array($0.utf8) == Array(token.utf8) }) { return found }
            tokens.append(token)
            return tokens.count - 1
        }
        for special in specialTokens { _ = id(special) }
        for scalar in ByteLevelAlphabet.scalarForByte.sorted(by: { $0.value < $1.value }) { _ = id(String(scalar)) }

        var counts: [String: Int] = [:]
        let preTokenizer = try! PreTokenizer(.byteLevel(addPrefixSpace: false, useRegex: true))
        for text in texts {
            var normalized = Normalizer.nfc(text)
            normalized.withUTF8 { buffer in
                preTokenizer.forEachWord(in: buffer) { counts[ByteLevelAlphabet.encode($0), default: 0] += 1 }
            }
        }
        let wordList = counts.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
        var words = wordList.map { $0.key.unicodeScalars.map { id(String($0)) } }
        let weights = wordList.map(\.value)

        var merges: [(left: Int, right: Int)] = []
        while tokens.count < vocabularySize {
            var pairCounts: [[Int]: Int] = [:]
            for (word, weight) in zip(words, weights) where word.count > 1 {
                for position in 1..<word.count { pairCounts[[word[position - 1], word[position]], default: 0] += weight }
            }
            guard let best = pairCounts.min(by: { $0.value != $1.value ? $0.value > $1.value
                                                  : $0.key.lexicographicallyPrecedes($1.key) }),
                  best.value >= max(minFrequency, 1) else { break }
            let (left, right) = (best.key[0], best.key[1])
            let merged = id(tokens[left] + tokens[right])
            merges.append((left, right))
            for index in words.indices {
                var output: [Int] = []
                var position = 0
                let word = words[index]
                while position < word.count {
                    if position + 1 < word.count && word[position] == left && word[position + 1] == right {
                        output.append(merged)
                        position += 2
                    } else {
                        output.append(word[position])
                        position += 1
                    }
                }
                words[index] = output
            }
        }
        return (tokens, merges)
    }
}
