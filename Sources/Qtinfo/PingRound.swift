import QtfsAuth
import QtfsClient
import QtfsControl
import QtfsProtocol
import QtfsSystem

/// One handshake on a fresh connection, timed: with a key, the whole handshake of every DPU
/// client (HELLO, challenge-response, sealing); without one, HELLO alone.
enum PingRound {
    struct Result {
        var serverName: String
        var version: UInt16
        var microseconds: Double
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// `crypt`: the client configuration's mode (client.conf `crypt =`), as the other clients use it.
    static func run(_ address: ServerAddress, key: AuthKey?, crypt: ClientCrypt) throws -> Result {
        let conn = Connection(socket: try Dial.tcp(host: address.host, port: address.port, timeout: 5))
        defer { conn.shutdownNow() }
        let start = MonotonicClock.now()
        let hello: HelloReply
        do {
            hello = try key.map { try authenticated(conn, address, $0, crypt) } ?? helloOnly(conn, address)
        } catch let e as ConnectError {
            throw Failure(description: e.description)
        } catch let e as Failure {
            throw e
        } catch {
            throw Failure(description: "\(address) answered HELLO with something other than qtfs protocol v1 (\(error)): is this a qtfs-server?")
        }
        return Result(serverName: hello.serverName, version: hello.version, microseconds: (MonotonicClock.now() - start) * 1e6)
    }

    /// The whole handshake of a client that holds the key.
    private static func authenticated(_ conn: Connection, _ address: ServerAddress, _ key: AuthKey,
                                      _ crypt: ClientCrypt) throws -> HelloReply {
        try conn.handshake(clientName: "qtinfo", key: key, server: "qtfs-server at \(address)", crypt: crypt)
        guard let hello = conn.hello else { throw Failure(description: "\(address) gave no HELLO answer") }
        return hello
    }

    /// Without a key, HELLO alone. It offers authentication and every suite, as a keyed
    /// client does, so that a server that seals every connection answers it too.
    private static func helloOnly(_ conn: Connection, _ address: ServerAddress) throws -> HelloReply {
        let caps = HelloRequest.capAuthCapable | Sealed.allCapabilities
        let r = conn.call(.hello) { HelloRequest(capabilities: caps, clientName: "qtinfo").encode(into: &$0) }
        guard r.failure == nil else { throw Failure(description: "\(address) closed the connection during the handshake") }
        guard r.status == 0 else { throw Failure(description: "\(address) refused the handshake: \(ErrnoNames.name(r.status))") }
        return try r.decode(HelloReply.self)
    }
}
