import Foundation
import Synchronization

/// A byte-level BPE tokenizer read from a Hugging Face tokenizer.json, giving the same ids as the
/// `tokenizers` library: added tokens → normalizer → pre-tokenizer → BPE → post-processor.
/// Immutable apart from a word cache; safe to share between threads.
public final class Tokenizer: Sendable {
    let normalizer: Normalizer?
    let addedTokens: AddedTokens
    let preTokenizer: PreTokenizer
    let model: BytePairModel
    let postProcessor: PostProcessor
    let decoder: TokenDecoder
    private let tokenForID: [String?]
    private let addedTokenIDs: [String: Int]
    /// Word → ids of earlier calls. An encode call takes the cache out and puts it back, so the
    /// lock is held twice per call, not once per word (a concurrent call just starts empty).
    private let cache = Mutex(WordCache())

    /// One more than the largest id of the vocabulary and the added tokens (the embedding rows needed).
    public let vocabularySize: Int
    /// Best effort: "<|endoftext|>", "</s>" or a similar well-known end token, else the last special
    /// token of the post-processor template, else the first special added token.
    public let eosTokenID: Int?

    /// Reads a tokenizer.json file.
    public convenience init(url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        try self.init(data: data, path: url.path)
    }

    /// The tokenizer.json of a model directory (or the file itself, if given a file).
    public static func load(directory: URL) throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw TokenizerError.unreadableFile(path: directory.path, reason: "no such file or directory")
        }
        if !isDirectory.boolValue { return try Tokenizer(url: directory) }
        let file = directory.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw TokenizerError.unreadableFile(path: file.path, reason: "the model directory has no tokenizer.json")
        }
        return try Tokenizer(url: file)
    }

    /// Parses tokenizer.json bytes; `path` only names the source in error messages.
    public init(data: Data, path: String = "tokenizer.json") throws {
        let json = try Self.parse(data, path: path)
        do {
            try Self.checkIDs(json)
            let normalizer = json.normalizer.map(Normalizer.init)
            let preTokenizer = try PreTokenizer(json.preTokenizer)
            let model = try BytePairModel(json.model, isByteLevel: preTokenizer.isByteLevel)
            if let unknown = json.model.unkToken, json.model.vocab[unknown] == nil {
                throw TokenizerFileProblem.inconsistent("model.unk_token \"\(unknown)\" is not in model.vocab")
            }
            self.normalizer = normalizer
            self.preTokenizer = preTokenizer
            self.model = model
            addedTokens = AddedTokens(json.addedTokens, normalizer: normalizer)
            postProcessor = try PostProcessor(json.postProcessor)

            var size = (json.model.vocab.values.max() ?? -1) + 1
            for token in json.addedTokens { size = max(size, token.id + 1) }
            var tokens = [String?](repeating: nil, count: size)
            for (token, id) in json.model.vocab { tokens[id] = token }
            var addedIDs: [String: Int] = [:]
            for token in json.addedTokens {
                // tokenizers >= 0.21 decodes a normalized added token as its normalized spelling
                // (the text it matches), e.g. "HelloBot" under Lowercase decodes to "hellobot".
                tokens[token.id] = token.normalized ? (normalizer?.normalize(token.content) ?? token.content) : token.content
                addedIDs[token.content] = token.id
            }
            tokenForID = tokens
            addedTokenIDs = addedIDs
            vocabularySize = size
            let specialIDs = Set(json.addedTokens.filter(\.special).map(\.id))
            decoder = try TokenDecoder(tokenForID: tokens, specialIDs: specialIDs, decoder: json.decoder)
            let wellKnownEnds = ["<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>", "<|eot_id|>", "<|im_end|>"]
            eosTokenID = wellKnownEnds.lazy.compactMap { addedIDs[$0] ?? json.model.vocab[$0] }.first
                ?? postProcessor.suffix.last ?? json.addedTokens.first(where: \.special)?.id
        } catch let problem as TokenizerFileProblem {
            throw problem.error(path: path)
        }
    }

    /// Ids are indices of dense tables here (and rows of the embedding): every vocabulary and added-token id
    /// must be in 0 … `maxTokenID`, checked before any table is sized by them. (`tokenizers` refuses ids
    /// beyond u32; real vocabularies stay below 300 k.)
    public static let maxTokenID = (1 << 24) - 1

    private static func checkIDs(_ json: TokenizerJSON) throws {
        let ids = json.model.vocab.map { ("token \"\($0.key)\"", $0.value) }
            + json.addedTokens.map { ("added token \"\($0.content)\"", $0.id) }
        if let (name, id) = ids.first(where: { !(0...maxTokenID).contains($0.1) }) {
            throw TokenizerFileProblem.inconsistent("\(name) has id \(id), outside 0 … \(maxTokenID)")
        }
    }

    private static func parse(_ data: Data, path: String) throws -> TokenizerJSON {
        do {
            return try JSONDecoder().decode(TokenizerJSON.self, from: data)
        } catch let problem as TokenizerFileProblem {
            throw problem.error(path: path)
        } catch DecodingError.keyNotFound(let key, let context) {
            throw TokenizerError.missingKey(path: path, key: Self.keyPath(context.codingPath + [key]))
        } catch DecodingError.typeMismatch(let type, let context) {
            throw TokenizerError.malformedJSON(path: path, reason: "'\(Self.keyPath(context.codingPath))' is not a \(type)")
        } catch DecodingError.valueNotFound(let type, let context) {
            throw TokenizerError.malformedJSON(path: path, reason: "'\(Self.keyPath(context.codingPath))' is null, expected \(type)")
        } catch DecodingError.dataCorrupted(let context) {
            let underlying = context.underlyingError.map { " (\($0))" } ?? ""
            throw TokenizerError.malformedJSON(path: path, reason: context.debugDescription + underlying)
        } catch {
            throw TokenizerError.malformedJSON(path: path, reason: "\(error)")
        }
    }

    private static func keyPath(_ path: [CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    // MARK: - Encoding

    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var output: [Int] = []
        output.reserveCapacity(text.utf8.count / 3 + 4)
        if addSpecialTokens { output += postProcessor.prefix }
        var words = WordCache()
        cache.withLock { swap(&$0, &words) }
        var symbols: [Int32] = []
        var text = text
        text.withUTF8 { raw in
            for segment in addedTokens.split(raw, with: addedTokens.raw) {
                switch segment {
                case .token(let id): output.append(id)
                case .text(let range):
                    encodeUnnormalized(UnsafeBufferPointer(rebasing: raw[range]), atStart: range.lowerBound == 0, &output, &words, &symbols)
                }
            }
        }
        cache.withLock { swap(&$0, &words) }
        if addSpecialTokens { output += postProcessor.suffix }
        return output
    }

    /// A piece between raw-matched added tokens: normalize it, then cut out the normalized ones.
    /// `atStart`: the piece begins the input.
    private func encodeUnnormalized(_ piece: UnsafeBufferPointer<UInt8>, atStart: Bool, _ output: inout [Int],
                                    _ words: inout WordCache, _ symbols: inout [Int32]) {
        guard let normalizer else { return encodeNormalized(piece, atStart: atStart, &output, &words, &symbols) }
        var normalized = normalizer.normalize(String(decoding: piece, as: UTF8.self))
        normalized.withUTF8 { encodeNormalized($0, atStart: atStart, &output, &words, &symbols) }
    }

    private func encodeNormalized(_ piece: UnsafeBufferPointer<UInt8>, atStart: Bool, _ output: inout [Int],
                                  _ words: inout WordCache, _ symbols: inout [Int32]) {
        for segment in addedTokens.split(piece, with: addedTokens.normalized) {
            switch segment {
            case .token(let id):
                output.append(id)
            case .text(let range):
                preTokenizer.forEachWord(in: UnsafeBufferPointer(rebasing: piece[range]), atStart: atStart && range.lowerBound == 0) { word in
                    if words.append(word, to: &output) { return }
                    model.encode(word, into: &symbols)
                    for id in symbols { output.append(Int(id)) }
                    words.insert(word, symbols[...])
                }
            }
        }
    }

    // MARK: - Decoding and lookup

    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        decoder.decode(ids, skipSpecialTokens: skipSpecialTokens)
    }

    /// The id of a token as spelled in the vocabulary (byte-level spelling, e.g. "Ġthe"), or of an
    /// added token's content.
    public func id(of token: String) -> Int? {
        addedTokenIDs[token] ?? model.vocabulary[token]
    }

    /// The vocabulary spelling of an id.
    public func token(for id: Int) -> String? {
        id >= 0 && id < tokenForID.count ? tokenForID[id] : nil
    }

    /// True for the ids of added tokens marked special (skipped by `decode(skipSpecialTokens: true)`).
    public func isSpecial(_ id: Int) -> Bool { decoder.isSpecial(id) }
}
