import Foundation

/// Writes a trained tokenizer as the tokenizer.json that `tokenizers`' `Tokenizer.save(path)` would
/// write for the same model: the same keys in the same order, two-space indentation, serde_json's
/// string escapes, vocabulary by id, merges as `["a", "b"]` pairs by rank, no final newline.
/// Byte-for-byte equality with Python's file is checked by the BPETrainerTests.
enum TokenizerJSONWriter {
    static func write(_ trained: TrainedTokenizer) -> Data {
        var out = Output()
        out.line(0, "{")
        out.line(1, #""version": "1.0","#)
        out.line(1, #""truncation": null,"#)
        out.line(1, #""padding": null,"#)
        if trained.specialTokens.isEmpty {
            out.line(1, #""added_tokens": [],"#)
        } else {
            out.line(1, #""added_tokens": ["#)
            for (index, token) in trained.specialTokens.enumerated() {
                out.line(2, "{")
                out.line(3, #""id": \#(token.id),"#)
                out.line(3, #""content": \#(quoted(token.content)),"#)
                out.line(3, #""single_word": false,"#)
                out.line(3, #""lstrip": false,"#)
                out.line(3, #""rstrip": false,"#)
                out.line(3, #""normalized": false,"#)
                out.line(3, #""special": true"#)
                out.line(2, index + 1 < trained.specialTokens.count ? "}," : "}")
            }
            out.line(1, "],")
        }
        out.line(1, #""normalizer": {"#)
        out.line(2, #""type": "NFC""#)
        out.line(1, "},")
        byteLevel(&out, "pre_tokenizer", addPrefixSpace: false)
        byteLevel(&out, "post_processor", addPrefixSpace: true)
        byteLevel(&out, "decoder", addPrefixSpace: true)
        out.line(1, #""model": {"#)
        out.line(2, #""type": "BPE","#)
        out.line(2, #""dropout": null,"#)
        out.line(2, #""unk_token": null,"#)
        out.line(2, #""continuing_subword_prefix": null,"#)
        out.line(2, #""end_of_word_suffix": null,"#)
        out.line(2, #""fuse_unk": false,"#)
        out.line(2, #""byte_fallback": false,"#)
        out.line(2, #""ignore_merges": false,"#)
        out.line(2, #""vocab": {"#)
        for (id, token) in trained.tokens.enumerated() {
            out.line(3, "\(quoted(token)): \(id)" + (id + 1 < trained.tokens.count ? "," : ""))
        }
        out.line(2, "},")
        if trained.merges.isEmpty {
            out.line(2, #""merges": []"#)
        } else {
            out.line(2, #""merges": ["#)
            for (rank, merge) in trained.merges.enumerated() {
                out.line(3, "[")
                out.line(4, quoted(trained.tokens[merge.left]) + ",")
                out.line(4, quoted(trained.tokens[merge.right]))
                out.line(3, rank + 1 < trained.merges.count ? "]," : "]")
            }
            out.line(2, "]")
        }
        out.line(1, "}")
        out.text.append(contentsOf: "}".utf8)  // serde_json ends without a newline
        return Data(out.text)
    }

    /// ByteLevel as the pre-tokenizer, post-processor or decoder (the library writes all three alike).
    private static func byteLevel(_ out: inout Output, _ key: String, addPrefixSpace: Bool) {
        out.line(1, "\"\(key)\": {")
        out.line(2, #""type": "ByteLevel","#)
        out.line(2, "\"add_prefix_space\": \(addPrefixSpace),")
        out.line(2, #""trim_offsets": true,"#)
        out.line(2, #""use_regex": true"#)
        out.line(1, "},")
    }

    /// A JSON string as serde_json writes it: `"` and `\` escaped, the control characters below
    /// U+0020 as \b \t \n \f \r or \u00xx, everything else (including non-ASCII) as is.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\u{08}": result += "\\b"
            case "\t": result += "\\t"
            case "\n": result += "\\n"
            case "\u{0C}": result += "\\f"
            case "\r": result += "\\r"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    private struct Output {
        var text: [UInt8] = []
        mutating func line(_ depth: Int, _ content: String) {
            text.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
            text.append(contentsOf: content.utf8)
            text.append(UInt8(ascii: "\n"))
        }
    }
}
