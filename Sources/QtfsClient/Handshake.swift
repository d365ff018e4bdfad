// The whole start of a connection in one place: HELLO, then mutual authentication when
// a key is given or the server asks (docs/protocol.md, "Authentication"), then sealed
// frames when both ends agreed on a suite ("Sealed frames"). Every new connection — first
// mount or a reconnect — goes through `handshake`, and so gets new session keys.
import QtfsAuth
import QtfsProtocol
import QtfsSystem

/// Whether a client seals its frames (`-o crypt=`, client.conf `crypt =`).
public enum ClientCrypt: String, CaseIterable, Sendable {
    /// Offer the suites in HELLO and refuse a server that does not choose one.
    case aead
    /// Offer none: plaintext, for a link the administrator trusts (the server must agree).
    case none

    public static let names = allCases.map(\.rawValue).joined(separator: " or ")

    /// The mode in force: `chosen`, else aead with a key and none without (nothing to
    /// derive keys from). aead without a key is a mistake the caller reports.
    public static func effective(_ chosen: ClientCrypt?, hasKey: Bool) -> ClientCrypt {
        chosen ?? (hasKey ? .aead : .none)
    }
}

/// The key every connection of this process authenticates with unless told otherwise:
/// qtfs-fuse sets it once at start from `-o key=`, so its mount, stream (fifo) and socket
/// bridge connections, and reconnects, all authenticate the same way. `processCrypt`
/// likewise (aead: sealed whenever there is a key).
public enum ClientAuth {
    nonisolated(unsafe) public static var processKey: AuthKey?
    nonisolated(unsafe) public static var processCrypt: ClientCrypt = .aead
}

extension Connection {
    /// HELLO and, with a key, the challenge-response; with a key and `crypt` aead, every
    /// frame after it is sealed (`sealing` then holds the ciphers). Throws `ConnectError`
    /// with a text a person can act on, or `Errno` when the peer does not speak v1.
    public func handshake(clientName: String, key: AuthKey? = ClientAuth.processKey, server: String = "server",
                          crypt: ClientCrypt = ClientAuth.processCrypt) throws {
        let seal = key != nil && crypt == .aead
        let offer = seal ? Self.suitesOffered : 0
        // Not capQuietRelease: RELEASE answers are dropped unread (Connection.post), and going
        // without them measured no faster for this client (docs/protocol.md, RELEASE).
        let caps = (key == nil ? 0 : HelloRequest.capAuthCapable) | offer | HelloRequest.capOpenAttr
        let r = call(.hello) { HelloRequest(capabilities: caps, clientName: clientName).encode(into: &$0) }
        if r.status == LinuxErrno.EACCES { throw Self.helloRefused(key: key, sealing: seal, server: server) }
        let h = try r.decode(HelloReply.self)
        guard h.version == Wire.version else { throw Errno(LinuxErrno.EPROTO) }
        let required = h.capabilities & HelloReply.capAuthRequired != 0
        switch (key, required) {
        case (nil, false): _ = try Self.suite(chosenBy: h.capabilities, offered: 0, server: server)
        case (nil, true):
            throw ConnectError("\(server) requires authentication: give its key file with -o key=FILE (a copy of the server's key, mode 0600)",
                               errno: LinuxErrno.EACCES)
        case (.some, false):
            throw ConnectError("\(server) does not authenticate itself (started with --no-auth?); refusing it because a key was given — start the server with --key, or drop key= for an unauthenticated test server",
                               errno: LinuxErrno.EACCES)
        case (.some(let key), true):
            let suite = try Self.suite(chosenBy: h.capabilities, offered: offer, server: server)
            let keys = try authenticate(key: key, suite: suite, server: server)
            if let keys { try startSealing(keys) }
        }
        setHello(h)
    }

    /// ChaCha20-Poly1305 always, AES-256-GCM when this CPU has AES instructions.
    static var suitesOffered: UInt64 {
        Sealed.Suite.chacha20poly1305.capability | (cpuHasAES ? Sealed.Suite.aes256gcm.capability : 0)
    }

    /// The suite of the server's answer; refuses an answer that does not match the offer
    /// (none chosen, several, one not offered), which is what a downgrade looks like.
    static func suite(chosenBy caps: UInt64, offered: UInt64, server: String) throws -> Sealed.Suite? {
        let (suite, ambiguous) = Sealed.chosen(by: caps)
        if offered == 0 {
            guard suite == nil && !ambiguous else {
                throw ConnectError("\(server) chose a cipher suite though we offered none (protocol error) — is something on the path rewriting HELLO?",
                                   errno: LinuxErrno.EPROTO)
            }
            return nil
        }
        guard let suite, !ambiguous, offered & suite.capability != 0 else {
            let what = ambiguous ? "several cipher suites" : suite == nil ? "no cipher suite" : "a cipher suite we did not offer"
            throw ConnectError("\(server) answered HELLO with \(what), so the connection would not be sealed; refused. Update qtfs-server (it seals frames by default), or, only on a link you trust, use crypt=none on this client and --crypt none (or optional) on the server. If the server is current, something on the path altered HELLO.",
                               errno: LinuxErrno.EACCES)
        }
        return suite
    }

    /// The text for a HELLO answered EACCES: the server seals every connection and we
    /// offered no suite.
    static func helloRefused(key: AuthKey?, sealing: Bool, server: String) -> ConnectError {
        let why = key == nil
            ? "\(server) requires authentication and sealed frames: give its key file with -o key=FILE (a copy of the server's key, mode 0600)"
            : sealing
                ? "\(server) refused our HELLO though we offered sealed frames — something on the path may have altered it; check the server's log"
                : "\(server) requires sealed frames (its --crypt is aead): drop crypt=none, or start the server with --crypt optional"
        return ConnectError(why, errno: LinuxErrno.EACCES)
    }

    /// The challenge-response; the session keys when `suite` was chosen.
    private func authenticate(key: AuthKey, suite: Sealed.Suite?, server: String) throws -> SessionKeys? {
        let exchange = ClientAuthExchange(version: Wire.version.asU16)
        let r = call(.authChallenge) { exchange.challenge.encode(into: &$0) }
        guard let reply = try? r.decode(AuthChallengeReply.self) else {
            throw ConnectError("\(server) refused the authentication challenge (\(r.status == 0 ? "malformed answer" : errnoName(Errno(r.status)))) — check that server and client run the same qtfs version", errno: LinuxErrno.EACCES)
        }
        guard let proof = exchange.respond(to: reply, key: key) else {
            throw ConnectError("\(server) could not prove it holds our key: the key files differ (or someone else answers at that address) — copy the server's key to this machine", errno: LinuxErrno.EACCES)
        }
        let done = call(.authResponse) { proof.encode(into: &$0) }
        guard done.status == 0 else {
            throw ConnectError("\(server) refused our key (\(errnoName(Errno(done.status)))) — the key files differ", errno: LinuxErrno.EACCES)
        }
        return suite.map { exchange.sessionKeys($0, reply, proof, key: key) }
    }
}

extension UInt8 {
    fileprivate var asU16: UInt16 { UInt16(self) }
}
