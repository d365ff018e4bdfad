import QtfsAuth
import QtfsClient
import QtfsSystem

/// One handshake on a fresh connection (HELLO, and the challenge-response with a key),
/// made by the same code as every DPU client's, and timed.
enum PingRound {
    struct Result {
        var serverName: String
        var version: UInt16
        var microseconds: Double
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ address: ServerAddress, key: AuthKey?) throws -> Result {
        let conn = Connection(socket: try Dial.tcp(host: address.host, port: address.port, timeout: 5))
        let start = MonotonicClock.now()
        defer { conn.shutdownNow() }
        do {
            try conn.handshake(clientName: "qtinfo", key: key, server: "qtfs-server at \(address)")
        } catch let e as ConnectError {
            throw Failure(description: e.description)
        } catch {
            throw Failure(description: "\(address) answered HELLO with something other than qtfs protocol v1 (\(error)): is this a qtfs-server?")
        }
        let elapsed = MonotonicClock.now() - start
        guard let hello = conn.hello else { throw Failure(description: "\(address) gave no HELLO answer") }
        return Result(serverName: hello.serverName, version: hello.version, microseconds: elapsed * 1e6)
    }
}
