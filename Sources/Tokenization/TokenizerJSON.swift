import Foundation

/// A `Codable` mirror of the parts of a Hugging Face tokenizer.json that decide the token ids.
/// Keys are spelled exactly as in the file. Components are tagged by their "type" key; a type this
/// reader does not implement throws `TokenizerFileProblem.unsupported` naming it (never ignored).
struct TokenizerJSON: Decodable {
    var addedTokens: [AddedTokenJSON]
    var normalizer: NormalizerJSON?
    var preTokenizer: PreTokenizerJSON?
    var model: ModelJSON
    var postProcessor: PostProcessorJSON?
    var decoder: DecoderJSON?

    enum CodingKeys: String, CodingKey {
        case addedTokens = "added_tokens", normalizer, preTokenizer = "pre_tokenizer", model
        case postProcessor = "post_processor", decoder
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        addedTokens = try c.decodeIfPresent([AddedTokenJSON].self, forKey: .addedTokens) ?? []
        normalizer = try c.decodeIfPresent(NormalizerJSON.self, forKey: .normalizer)
        preTokenizer = try c.decodeIfPresent(PreTokenizerJSON.self, forKey: .preTokenizer)
        guard c.contains(.model), try !c.decodeNil(forKey: .model) else { throw TokenizerFileProblem.missing(key: "model") }
        model = try c.decode(ModelJSON.self, forKey: .model)
        postProcessor = try c.decodeIfPresent(PostProcessorJSON.self, forKey: .postProcessor)
        self.decoder = try c.decodeIfPresent(DecoderJSON.self, forKey: .decoder)
    }
}

struct AddedTokenJSON: Decodable {
    var id: Int
    var content: String
    var singleWord: Bool
    var lstrip: Bool
    var rstrip: Bool
    var normalized: Bool
    var special: Bool

    enum CodingKeys: String, CodingKey {
        case id, content, singleWord = "single_word", lstrip, rstrip, normalized, special
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id)
        content = try c.decode(String.self, forKey: .content)
        special = try c.decodeIfPresent(Bool.self, forKey: .special) ?? false
        singleWord = try c.decodeIfPresent(Bool.self, forKey: .singleWord) ?? false
        lstrip = try c.decodeIfPresent(Bool.self, forKey: .lstrip) ?? false
        rstrip = try c.decodeIfPresent(Bool.self, forKey: .rstrip) ?? false
        // The library's default: special tokens match the raw text, others the normalized text.
        normalized = try c.decodeIfPresent(Bool.self, forKey: .normalized) ?? !special
    }
}

/// Reads the "type" tag of a component, or reports which component lacks one.
private struct TypeTag: Decodable {
    var type: String?
}

private func componentType(_ decoder: Decoder, component: String) throws -> String {
    guard let type = try TypeTag(from: decoder).type else {
        throw TokenizerFileProblem.unsupported(component: component, detail: "no \"type\" key")
    }
    return type
}

/// A key whose spelling is known only at run time (e.g. the names in `special_tokens`).
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

extension KeyedDecodingContainer where Key == AnyKey {
    func value<T: Decodable>(_ key: String, default fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: AnyKey(key)) ?? fallback
    }
    func value<T: Decodable>(_ key: String) throws -> T {
        try decode(T.self, forKey: AnyKey(key))
    }
}

indirect enum NormalizerJSON: Decodable {
    case nfc, nfd, nfkc, nfkd, lowercase, stripAccents
    case strip(left: Bool, right: Bool)
    case replace(pattern: String, content: String)
    case prepend(String)
    case sequence([NormalizerJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        switch try componentType(decoder, component: "normalizer") {
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "StripAccents": self = .stripAccents
        case "Strip": self = .strip(left: try c.value("strip_left", default: true), right: try c.value("strip_right", default: true))
        case "Prepend": self = .prepend(try c.value("prepend"))
        case "Sequence": self = .sequence(try c.value("normalizers"))
        case "Replace":
            let pattern: PatternJSON = try c.value("pattern")
            guard case .string(let literal) = pattern else {
                throw TokenizerFileProblem.unsupported(component: "normalizer", detail: "Replace with a Regex pattern")
            }
            self = .replace(pattern: literal, content: try c.value("content"))
        case let other:
            throw TokenizerFileProblem.unsupported(component: "normalizer", detail: "type '\(other)'")
        }
    }
}

/// `{"String": "x"}` or `{"Regex": "x"}`, as used by Split and Replace.
enum PatternJSON: Decodable {
    case string(String)
    case regex(String)

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        if let literal: String = try c.value("String", default: nil) {
            self = .string(literal)
        } else if let regex: String = try c.value("Regex", default: nil) {
            self = .regex(regex)
        } else {
            throw TokenizerFileProblem.unsupported(component: "pattern", detail: "neither \"String\" nor \"Regex\"")
        }
    }
}

indirect enum PreTokenizerJSON: Decodable {
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case split(pattern: PatternJSON, behavior: SplitBehavior, invert: Bool)
    case sequence([PreTokenizerJSON])
    case metaspace(MetaspaceJSON)

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        switch try componentType(decoder, component: "pre_tokenizer") {
        case "Metaspace":
            self = .metaspace(try MetaspaceJSON(from: decoder))
        case "ByteLevel":
            self = .byteLevel(addPrefixSpace: try c.value("add_prefix_space", default: true),
                              useRegex: try c.value("use_regex", default: true))
        case "Split":
            let name: String = try c.value("behavior")
            guard let behavior = SplitBehavior(rawValue: name) else {
                throw TokenizerFileProblem.unsupported(component: "pre_tokenizer", detail: "Split behavior '\(name)'")
            }
            self = .split(pattern: try c.value("pattern"), behavior: behavior, invert: try c.value("invert", default: false))
        case "Sequence":
            self = .sequence(try c.value("pretokenizers"))
        case let other:
            throw TokenizerFileProblem.unsupported(component: "pre_tokenizer", detail: "type '\(other)'")
        }
    }
}

/// What happens to the matches of a Split pattern (the library's SplitDelimiterBehavior).
enum SplitBehavior: String, Decodable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
}

struct ModelJSON: Decodable {
    var vocab: [String: Int]
    var merges: [(String, String)]
    var unkToken: String?
    var continuingSubwordPrefix: String?
    var endOfWordSuffix: String?
    var fuseUnk: Bool
    var byteFallback: Bool
    var ignoreMerges: Bool

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        // Old files have no "type" in the model; a vocab plus merges means BPE there.
        let type: String? = try c.value("type", default: nil)
        guard type == nil || type == "BPE" else {
            throw TokenizerFileProblem.unsupported(component: "model", detail: "type '\(type!)' (only BPE is implemented)")
        }
        guard c.contains(AnyKey("vocab")) else { throw TokenizerFileProblem.missing(key: "model.vocab") }
        guard c.contains(AnyKey("merges")) else { throw TokenizerFileProblem.missing(key: "model.merges") }
        if let dropout: Double = try c.value("dropout", default: nil), dropout > 0 {
            throw TokenizerFileProblem.unsupported(component: "model", detail: "BPE dropout \(dropout) (random encodings)")
        }
        vocab = try c.value("vocab")
        merges = try c.value("merges", default: [MergeJSON]()).map { ($0.left, $0.right) }
        unkToken = try c.value("unk_token", default: nil)
        continuingSubwordPrefix = try c.value("continuing_subword_prefix", default: nil)
        endOfWordSuffix = try c.value("end_of_word_suffix", default: nil)
        fuseUnk = try c.value("fuse_unk", default: false)
        byteFallback = try c.value("byte_fallback", default: false)
        ignoreMerges = try c.value("ignore_merges", default: false)
    }
}

/// One merge, written either as "a b" (older files, GPT-NeoX) or as ["a", "b"] (tokenizers >= 0.20).
struct MergeJSON: Decodable {
    var left: String
    var right: String

    init(from decoder: Decoder) throws {
        let single = try decoder.singleValueContainer()
        if let line = try? single.decode(String.self) {
            // The library splits at the first space only.
            guard let space = line.firstIndex(of: " ") else {
                throw TokenizerFileProblem.inconsistent("merge \"\(line)\" is not two tokens separated by a space")
            }
            left = String(line[..<space])
            right = String(line[line.index(after: space)...])
        } else {
            let pair = try single.decode([String].self)
            guard pair.count == 2 else {
                throw TokenizerFileProblem.inconsistent("merge \(pair) does not have exactly two tokens")
            }
            left = pair[0]
            right = pair[1]
        }
    }
}

indirect enum PostProcessorJSON: Decodable {
    case byteLevel
    case template(single: [TemplatePieceJSON], specialTokens: [String: [Int]])
    /// RobertaProcessing and BertProcessing: cls + A + sep.
    case clsSep(cls: Int, sep: Int)
    case sequence([PostProcessorJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        switch try componentType(decoder, component: "post_processor") {
        case "ByteLevel": self = .byteLevel
        case "TemplateProcessing":
            let specials = try c.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("special_tokens"))
            var ids: [String: [Int]] = [:]
            for key in specials.allKeys {
                let entry = try specials.nestedContainer(keyedBy: AnyKey.self, forKey: key)
                ids[key.stringValue] = try entry.value("ids")
            }
            self = .template(single: try c.value("single"), specialTokens: ids)
        case "RobertaProcessing", "BertProcessing":
            let cls: TokenAndID = try c.value("cls")
            let sep: TokenAndID = try c.value("sep")
            self = .clsSep(cls: cls.id, sep: sep.id)
        case "Sequence": self = .sequence(try c.value("processors"))
        case let other:
            throw TokenizerFileProblem.unsupported(component: "post_processor", detail: "type '\(other)'")
        }
    }
}

/// `["<s>", 0]` as written for cls / sep.
struct TokenAndID: Decodable {
    var id: Int
    init(from decoder: Decoder) throws {
        var c = try decoder.unkeyedContainer()
        _ = try c.decode(String.self)
        id = try c.decode(Int.self)
    }
}

/// `{"SpecialToken": {"id": "<s>", "type_id": 0}}` or `{"Sequence": {"id": "A", "type_id": 0}}`.
enum TemplatePieceJSON: Decodable {
    case specialToken(String)
    case sequence

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        if c.contains(AnyKey("SpecialToken")) {
            let inner = try c.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey("SpecialToken"))
            self = .specialToken(try inner.value("id"))
        } else if c.contains(AnyKey("Sequence")) {
            self = .sequence
        } else {
            throw TokenizerFileProblem.unsupported(component: "post_processor", detail: "template piece \(c.allKeys.map(\.stringValue))")
        }
    }
}

indirect enum DecoderJSON: Decodable {
    case byteLevel
    /// The SentencePiece family (Llama-2, OpenLLaMA): steps applied to the list of token strings.
    case replace(pattern: String, content: String)
    case byteFallback, fuse
    case strip(content: String, start: Int, stop: Int)
    case metaspace(MetaspaceJSON)
    case sequence([DecoderJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        switch try componentType(decoder, component: "decoder") {
        case "ByteLevel": self = .byteLevel
        case "ByteFallback": self = .byteFallback
        case "Fuse": self = .fuse
        case "Metaspace": self = .metaspace(try MetaspaceJSON(from: decoder))
        case "Sequence": self = .sequence(try c.value("decoders"))
        case "Strip": self = .strip(content: try c.value("content"), start: try c.value("start"), stop: try c.value("stop"))
        case "Replace":
            guard case .string(let literal) = try c.value("pattern") as PatternJSON else {
                throw TokenizerFileProblem.unsupported(component: "decoder", detail: "Replace with a Regex pattern")
            }
            self = .replace(pattern: literal, content: try c.value("content"))
        case let other:
            throw TokenizerFileProblem.unsupported(component: "decoder", detail: "type '\(other)'")
        }
    }
}
