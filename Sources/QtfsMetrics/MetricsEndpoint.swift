// GET /metrics over plain HTTP on an opt-in address, served by one thread with 2 s
// socket timeouts and a bounded request read; the body is swift-prometheus's rendering.
import Glibc
import Logging
import QtfsControl
import QtfsSystem

public final class MetricsEndpoint: @unchecked Sendable {
    private let fd: Int32
    private let mirror: PrometheusMirror
    private let beforeScrape: @Sendable () -> Void
    private let logger: Logger
    private var thread: pthread_t?
    public let port: UInt16

    /// `address` is HOST:PORT (IPv4; port 0 picks one). `beforeScrape` refreshes gauges.
    public init(address: String, mirror: PrometheusMirror, logger: Logger, beforeScrape: @escaping @Sendable () -> Void) throws {
        self.mirror = mirror; self.logger = logger; self.beforeScrape = beforeScrape
        (fd, port) = try MetricsEndpoint.listen(address)
        do {
            thread = try Threads.start(detached: false) { [self] in serve() }
        } catch {
            close(fd)
            throw ControlError("cannot start the metrics thread: \(error)")
        }
        logger.info("Prometheus metrics endpoint ready", metadata: ["metrics.listen": "\(address)", "metrics.port": "\(port)"])
    }

    public func stop() {
        guard let t = thread else { return }
        thread = nil
        Glibc.shutdown(fd, Int32(SHUT_RDWR))   // wakes the blocked accept
        pthread_join(t, nil)
        close(fd)
    }

    deinit { stop() }

    static func listen(_ address: String) throws -> (Int32, UInt16) {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw ControlError("metrics address '\(address)' is not HOST:PORT (e.g. 127.0.0.1:9464)")
        }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(address[..<colon]), &sin.sin_addr) == 1 else {
            throw ControlError("metrics address '\(address)' needs an IPv4 address before the port")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4)
        let ok = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0 && Glibc.listen(fd, 16) == 0
        guard ok else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw ControlError("cannot serve metrics on \(address): \(e); pick another --metrics-listen address")
        }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, UInt16(bigEndian: bound.sin_port))
    }

    private func serve() { StreamSocket.acceptLoop(fd, answer) }

    private func answer(_ c: Int32) {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return }
        let line = String(decoding: buf[0..<n].prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let response: String
        if parts.count >= 2, parts[0] == "GET", parts[1] == "/metrics" || parts[1].hasPrefix("/metrics?") {
            beforeScrape()
            let body = mirror.registry.emitToString()
            response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
        } else {
            response = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 22\r\nConnection: close\r\n\r\nonly /metrics is here\n"
        }
        _ = StreamSocket.writeAll(c, Array(response.utf8), deadline: Deadline(seconds: 2))
    }
}
