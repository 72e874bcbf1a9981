/// How the HTTP side of the server behaves: access, CORS, timeouts and the request log.
public struct ServerOptions: Sendable {
    /// Every route but /health needs `Authorization: Bearer <apiKey>` when set.
    public var apiKey: String?
    /// Answer CORS preflights and set `Access-Control-Allow-Origin` for this origin ("*": any).
    public var corsOrigin: String?
    /// A connection that sends no complete request head for this long (idle, or a slow header) is closed.
    public var idleTimeoutSeconds = 30.0
    /// A request body that is not complete this long after its head is refused (408) and its connection closed.
    public var bodyTimeoutSeconds = 30.0
    public enum LogFormat: String, Sendable, CaseIterable { case text, json, none }
    /// One line per request on stderr.
    public var logFormat = LogFormat.text

    public init() {}
}
