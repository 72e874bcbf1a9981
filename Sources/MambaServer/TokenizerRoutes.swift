import Hummingbird

/// llama.cpp's tokenizer endpoints:
///   POST /tokenize    {"content": "text", "add_special": bool, "with_pieces": bool} → {"tokens": [ids]}
///                     (with_pieces: {"tokens": [{"id", "piece"}]})
///   POST /detokenize  {"tokens": [ids]} → {"content": "text"}
enum TokenizerRoutes {
    static func tokenize(_ fields: RequestFields, _ service: GenerationQueue) throws(APIError) -> Response {
        var fields = fields
        let content = try fields.required("content").expect(\.string, "a string", field: "content", param: "content")
        let addSpecial = try fields.bool("add_special") ?? true
        let withPieces = try fields.bool("with_pieces") ?? false
        try fields.refuseUnread(endpoint: "/tokenize")
        let ids = service.tokenizer.encode(content, addSpecialTokens: addSpecial)
        struct Piece: Encodable { let id: Int; let piece: String }
        struct Pieces: Encodable { let tokens: [Piece] }
        if withPieces { return Routes.json(Pieces(tokens: ids.map { Piece(id: $0, piece: service.tokenizer.decode([$0])) })) }
        return Routes.json(["tokens": ids])
    }

    static func detokenize(_ fields: RequestFields, _ service: GenerationQueue) throws(APIError) -> Response {
        var fields = fields
        let list = try fields.required("tokens").expect(\.array, "an array of token ids", field: "tokens", param: "tokens")
        let ids = try list.enumerated().map { (i, value) throws(APIError) -> Int in
            let id = try value.expect(\.integer, "a token id (an integer)", field: "tokens[\(i)]", param: "tokens")
            guard (0..<service.model.vocabularySize).contains(id) else {
                throw APIError.invalid("tokens[\(i)]: token id \(id) is outside the vocabulary (0..<\(service.model.vocabularySize))", param: "tokens")
            }
            return id
        }
        try fields.refuseUnread(endpoint: "/detokenize")
        return Routes.json(["content": service.tokenizer.decode(ids)])
    }
}
