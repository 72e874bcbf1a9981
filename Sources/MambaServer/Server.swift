import Hummingbird

/// The HTTP server: `Routes` on a Hummingbird application bound to host:port.
public enum Server {
    public static func application(_ service: GenerationQueue, host: String, port: Int) -> some ApplicationProtocol {
        Application(router: Routes.router(service), configuration: .init(address: .hostname(host, port: port)))
    }
}
