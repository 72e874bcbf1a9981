import Foundation
import MambaLM
import TensorCore
import Tokenization

// Greedy continuation of a prompt with the library's public API only: Tokenizer, ModelDirectory, ModelLoader,
// MambaModel.
// Usage: Consumer MODEL_DIRECTORY PROMPT TOKENS. Prints the continuation (what `remamba generate --temperature 0
// --ignore-eos` prints; scripts/consumer compares the two).
let arguments = CommandLine.arguments
guard arguments.count == 4, let count = Int(arguments[3]), count > 0 else {
    FileHandle.standardError.write(Data("usage: Consumer MODEL_DIRECTORY PROMPT TOKENS (TOKENS > 0)\n".utf8))
    exit(2)
}

/// The index of the largest logit of the last row of [L, V] logits.
func argmaxOfLastRow(_ logits: Tensor) -> Int {
    let row = logits.row(logits.shape[0] - 1)
    return row.indices.max { row[$0] < row[$1] }! - row.startIndex
}

do {
    let url = URL(fileURLWithPath: arguments[1])
    let tokenizer = try Tokenizer.load(directory: url)
    // ModelLoader reads any checkpoint of the family (this one also carries ReMamba's modules, left unread here).
    guard let model = try ModelLoader.load(ModelDirectory(url)) as? MambaModel else {
        throw LoadingError.unsupported(path: url.path, what: "not a Mamba (v1) model")
    }
    let prompt = tokenizer.encode(arguments[2])
    try model.checkTokens(prompt)
    var state = model.makeState()
    var next = argmaxOfLastRow(model.forward(prompt, state: &state))
    var generated: [Int] = []
    for _ in 0..<count {
        generated.append(next)
        next = argmaxOfLastRow(model.forward([next], state: &state))
    }
    print(tokenizer.decode(generated))
} catch {
    FileHandle.standardError.write(Data("Consumer: \(error)\n".utf8))
    exit(1)
}
