// The whole start of a connection in one place: HELLO, then mutual authentication when
// a key is given or the server asks (docs/protocol.md, "Authentication"). Every new
// connection — first mount or a reconnect — goes through `handshake`.
import QtfsAuth
import QtfsProtocol

/// The key every connection of this process authenticates with unless told otherwise:
/// qtfs-fuse sets it once at start from `-o key=`, so its mount, stream (fifo) and socket
/// bridge connections, and reconnects, all authenticate the same way.
public enum ClientAuth {
    nonisolated(unsafe) public static var processKey: AuthKey?
}

extension Connection {
    /// HELLO and, with a key, the challenge-response. Throws `ConnectError` with a text a
    /// person can act on, or `FSError` when the peer does not speak protocol v1.
    public func handshake(clientName: String, key: AuthKey? = ClientAuth.processKey, server: String = "server") throws {
        let caps = key == nil ? 0 : HelloRequest.capAuthCapable
        let h = try call(.hello) { HelloRequest(capabilities: caps, clientName: clientName).encode(into: &$0) }
            .decode(HelloReply.self)
        guard h.version == Wire.version else { throw FSError(LinuxErrno.EPROTO) }
        let required = h.capabilities & HelloReply.capAuthRequired != 0
        switch (key, required) {
        case (nil, false): break
        case (nil, true):
            throw ConnectError("\(server) requires authentication: give its key file with -o key=FILE (a copy of the server's key, mode 0600)",
                               errno: LinuxErrno.EACCES)
        case (.some, false):
            throw ConnectError("\(server) does not authenticate itself (started with --no-auth?); refusing it because a key was given — start the server with --key, or drop key= for an unauthenticated test server",
                               errno: LinuxErrno.EACCES)
        case (.some(let key), true):
            try authenticate(key: key, server: server)
        }
        setHello(h)
    }

    private func authenticate(key: AuthKey, server: String) throws {
        let exchange = ClientAuthExchange(version: Wire.version.asU16)
        let r = call(.authChallenge) { exchange.challenge.encode(into: &$0) }
        guard let reply = try? r.decode(AuthChallengeReply.self) else {
            throw ConnectError("\(server) refused the authentication challenge (\(r.status == 0 ? "malformed answer" : errnoName(FSError(r.status)))) — check that server and client run the same qtfs version", errno: LinuxErrno.EACCES)
        }
        guard let proof = exchange.respond(to: reply, key: key) else {
            throw ConnectError("\(server) could not prove it holds our key: the key files differ (or someone else answers at that address) — copy the server's key to this machine", errno: LinuxErrno.EACCES)
        }
        let done = call(.authResponse) { proof.encode(into: &$0) }
        guard done.status == 0 else {
            throw ConnectError("\(server) refused our key (\(errnoName(FSError(done.status)))) — the key files differ", errno: LinuxErrno.EACCES)
        }
    }
}

extension UInt8 {
    fileprivate var asU16: UInt16 { UInt16(self) }
}
