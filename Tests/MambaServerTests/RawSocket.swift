import Foundation
import MambaLM
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1 for the timeout tests: sends raw bytes and waits for the server to close.
final class RawSocket {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 { close(descriptor); throw CocoaError(.fileReadUnknown, userInfo: ["reason": "connect to 127.0.0.1:\(port) failed"]) }
    }

    deinit { close(descriptor) }

    /// Runs blocking socket work on its own thread, so that the cooperative pool (which runs the server's
    /// handlers) is never blocked by a test client.
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    /// Ends the connection (the descriptor stays ours until deinit, so it cannot be reused meanwhile).
    func disconnect() { Glibc.shutdown(descriptor, Int32(SHUT_RDWR)) }

    func send(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the server closes the connection (true) or `deadline` passes (false).
    func waitForClose(until deadline: ContinuousClock.Instant) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let left = max(1, Int32(TextGeneration.seconds(deadline - ContinuousClock.now) * 1000))
            guard poll(&poller, 1, left) > 0 else { continue }
            let n = recv(descriptor, &buffer, buffer.count, 0)
            if n <= 0 { return true }                       // 0: closed; < 0: reset
        }
        return false
    }

    /// Sends a POST of `body` (JSON) with `Connection: close`.
    func post(_ path: String, _ body: String) {
        send("POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n" +
             "Content-Length: \(body.utf8.count)\r\n\r\n" + body)
    }

    /// Reads at least `count` bytes (or until the server closes); nil if `deadline` passes first.
    func read(atLeast count: Int, until deadline: ContinuousClock.Instant) -> [UInt8]? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while received.count < count {
            guard ContinuousClock.now < deadline else { return nil }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let n = recv(descriptor, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return received
    }

    /// The whole response until the server closes: status and body (chunked transfer encoding undone).
    func response(until deadline: ContinuousClock.Instant) -> (status: Int, body: String)? {
        guard let bytes = read(atLeast: Int.max, until: deadline) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else { return nil }
        let head = text[..<split.lowerBound].lowercased()
        var rest = bytes[(text[..<split.upperBound].utf8.count)...]
        guard head.contains("transfer-encoding: chunked") else { return (status, String(decoding: rest, as: UTF8.self)) }
        var body: [UInt8] = []
        while let lineEnd = rest.firstIndex(of: 0x0D), let size = Int(String(decoding: rest[..<lineEnd], as: UTF8.self), radix: 16), size > 0 {
            let start = lineEnd + 2
            body += rest[start..<(start + size)]
            rest = rest[(start + size + 2)...]
        }
        return (status, String(decoding: body, as: UTF8.self))
    }
}
