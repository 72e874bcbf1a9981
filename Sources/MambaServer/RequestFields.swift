import Foundation

/// The top-level fields of a JSON request body, read by name and type. Every field read is remembered,
/// so that whatever the request holds beyond them can be refused by name (`refuseUnread`): no field is
/// ever silently ignored. A field given as null counts as absent.
struct RequestFields: Sendable {
    private let values: [String: JSONValue]
    private var read: Set<String> = []

    init(_ body: Data) throws(APIError) {
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: body) } catch {
            throw APIError.invalid("request body: not valid JSON (or not UTF-8)", param: nil)
        }
        guard let object = value.object else { throw APIError.invalid("request body: expected a JSON object, got \(value.kind)", param: nil) }
        values = object
    }

    /// The field's value (nil when absent or null), marked as read.
    mutating func value(_ name: String) -> JSONValue? {
        read.insert(name)
        guard let value = values[name], value != .null else { return nil }
        return value
    }

    mutating func required(_ name: String) throws(APIError) -> JSONValue {
        guard let value = value(name) else { throw APIError.invalid("missing field \(name)", param: name) }
        return value
    }

    mutating func integer(_ name: String) throws(APIError) -> Int? {
        try value(name)?.expect(\.integer, "an integer", field: name, param: name)
    }

    mutating func number(_ name: String) throws(APIError) -> Double? {
        try value(name)?.expect(\.number, "a number", field: name, param: name)
    }

    mutating func float(_ name: String) throws(APIError) -> Float? { try number(name).map(Float.init) }

    mutating func bool(_ name: String) throws(APIError) -> Bool? {
        try value(name)?.expect(\.bool, "a boolean", field: name, param: name)
    }

    mutating func string(_ name: String) throws(APIError) -> String? {
        try value(name)?.expect(\.string, "a string", field: name, param: name)
    }

    mutating func object(_ name: String) throws(APIError) -> [String: JSONValue]? {
        try value(name)?.expect(\.object, "an object", field: name, param: name)
    }

    /// Refuses a field this server does not implement, when it is present (and not null).
    mutating func refuse(_ name: String, _ why: String) throws(APIError) {
        if value(name) != nil { throw APIError.invalid("\(name): \(why)", param: name) }
    }

    /// Refuses the first field (in sorted order) that nothing read: unknown to this endpoint.
    func refuseUnread(endpoint: String) throws(APIError) {
        if let name = values.keys.filter({ !read.contains($0) }).sorted().first {
            throw APIError.invalid("\(name): unknown field for \(endpoint) (docs/SERVER.md lists the fields this server honours)",
                                   param: name, code: "unknown_field")
        }
    }
}
