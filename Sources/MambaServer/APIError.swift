import Foundation

/// An error answered as the OpenAI API does: a status and {"error": {"message", "type", "param", "code"}}.
public struct APIError: Error, Sendable, Equatable {
    public var status: Int
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?

    static func invalid(_ message: String, param: String?, code: String? = nil) -> APIError {
        APIError(status: 400, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// A body that does not decode: the decoder's words, with the field's path.
    static func undecodable(_ error: Error) -> APIError {
        let detail: String
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            detail = "missing field \(path(context.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            detail = "\(path(context.codingPath)): \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            detail = context.codingPath.isEmpty ? "not valid JSON (or not UTF-8)" : "\(path(context.codingPath)): \(context.debugDescription)"
        default:
            detail = "\(error)"
        }
        return invalid("request body: \(detail)", param: nil)
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    /// {"error": {"message", "type", "param", "code"}}, absent param and code written as null.
    var body: Data {
        struct Body: Encodable { let error: APIError }
        return (try? ServerJSON.encoder.encode(Body(error: self))) ?? Data()
    }
}

extension APIError: Encodable {
    enum CodingKeys: String, CodingKey { case message, type, param, code }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(message, forKey: .message)
        try c.encode(type, forKey: .type)
        try c.encode(param, forKey: .param)     // Optional.encode writes null
        try c.encode(code, forKey: .code)
    }
}

/// The server's JSON coding: sorted keys, slashes unescaped.
enum ServerJSON {
    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
