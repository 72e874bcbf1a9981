import Hummingbird
import NIOCore

/// The HTTP server: `Routes` on a Hummingbird application bound to host:port. A connection that has not sent
/// a complete request head within the idle timeout (idle, or a slow header: slowloris) is closed by
/// Hummingbird's connection handler; a slow body is cut by `Routes.body`'s timeout.
public enum Server {
    public static func application(_ service: GenerationQueue, host: String, port: Int,
                                   options: ServerOptions = ServerOptions()) -> some ApplicationProtocol {
        let idle = TimeAmount.milliseconds(Int64(options.idleTimeoutSeconds * 1000))
        return Application(router: Routes.router(service, options: options, watchesDisconnects: true),
                           server: .http1(configuration: .init(idleTimeout: idle)),
                           configuration: .init(address: .hostname(host, port: port)))
    }
}
