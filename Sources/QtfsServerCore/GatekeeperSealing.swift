// The Gatekeeper's sealed frames (docs/protocol.md, "Sealed frames"): the suite chosen in
// HELLO by the server's crypt mode, the session keys once AUTH_RESPONSE succeeded, and
// each frame opened in the receive buffer and sealed in its send buffer, in place. Frames
// are sealed in the order they are queued, which is the order they go out, so the
// counters of both ends agree. A connection without a suite never comes here.
import Glibc
import Logging
import QtfsAuth
import QtfsProtocol

extension Gatekeeper {
    /// Picks HELLO's suite by the crypt mode and what the client offered. False when the
    /// client must be refused (crypt aead and it offered no suite).
    func chooseSuite(_ c: Connection, offered: UInt64, client: String) -> Bool {
        let suite = admission.crypt == .none ? nil : Gatekeeper.preferredSuite(offered: offered)
        c.security.suite = suite
        c.cell.crypt = suite?.description ?? "none"
        guard suite == nil, admission.crypt != .none else { return true }
        let meta: Logger.Metadata = ["conn.peer": "\(c.peer)", "conn.id": "\(c.id)", "client": "\(client)"]
        if admission.crypt == .optional {
            logger.notice("client offers no cipher suite; serving it in plaintext (crypt optional)", metadata: meta)
            return true
        }
        logger.warning("client offers no cipher suite (crypt=none, no key, or an old client); refused because this server seals every connection (crypt aead): give the client the key and drop crypt=none, or start the server with --crypt optional", metadata: meta)
        return false
    }

    /// AES-256-GCM when offered and this CPU has AES instructions, else ChaCha20-Poly1305
    /// if offered, else AES-256-GCM if offered; nil when nothing is offered.
    static func preferredSuite(offered: UInt64) -> Sealed.Suite? {
        let aes = offered & Sealed.Suite.aes256gcm.capability != 0
        let chacha = offered & Sealed.Suite.chacha20poly1305.capability != 0
        if aes && (cpuHasAES || !chacha) { return .aes256gcm }
        return chacha ? .chacha20poly1305 : nil
    }

    /// After the answer to AUTH_RESPONSE is queued: every later frame is sealed both ways.
    func startSealing(_ c: Connection, _ keys: SessionKeys) {
        do {
            (c.security.sealer, c.security.opener) = try keys.channel(forClient: false)
        } catch {
            logger.error("cannot set up sealing, closing", metadata: ["conn.peer": "\(c.peer)", "error": "\(error)"])
            engine.closeConnection(c, reason: "no cipher: \(error)")
        }
    }

    /// Whether frames from the client are sealed (after AUTH_RESPONSE with a suite).
    func receivesSealed(_ c: Connection) -> Bool { c.security.opener != nil }

    /// Whether frames to the client are sealed: then they must pass through this process.
    func sendsSealed(_ c: Connection) -> Bool { c.security.sealer != nil }

    /// The largest `length` a request header may carry on this connection.
    func maxRequestLength(_ c: Connection) -> Int {
        c.security.opener == nil ? config.maxFrame : Sealed.maxSealedLength(maxPayload: config.maxFrame)
    }

    /// Opens the complete sealed frame at `frame` in place; its plain header, or nil after
    /// closing the connection (a forged, dropped, reordered or replayed frame). Only on a
    /// connection that `receivesSealed`.
    func openFrame(_ c: Connection, _ frame: UnsafeMutableRawPointer, _ total: Int) -> FrameHeader? {
        guard let opener = c.security.opener else { return nil }
        let counter = opener.counter
        do {
            let n = try opener.open(UnsafeMutableRawBufferPointer(start: frame, count: total))
            var h = try FrameHeader.decode(UnsafeRawBufferPointer(start: frame, count: Wire.headerSize))
            h.length = UInt32(n)
            return h
        } catch {
            logger.warning("sealed frame failed to open, closing", metadata: [
                "conn.peer": "\(c.peer)", "conn.id": "\(c.id)", "frame.counter": "\(counter)", "error": "\(error)",
            ])
            engine.closeConnection(c, reason: "sealed frame #\(counter) failed to open")
            return nil
        }
    }

    /// Seals `b` in place before it is queued, when the connection is sealed; false after
    /// closing the connection (the counter ran out, which never happens in practice).
    func sealOut(_ c: Connection, _ b: OutBuffer) -> Bool {
        guard let sealer = c.security.sealer else { return true }
        do {
            let payload = b.count - Wire.headerSize
            b.count = try sealer.seal(UnsafeMutableRawBufferPointer(start: b.base, count: b.capacity), payloadLength: payload)
            return true
        } catch {
            logger.warning("cannot seal a frame, closing", metadata: ["conn.peer": "\(c.peer)", "error": "\(error)"])
            engine.closeConnection(c, reason: "sealing failed: \(error)")
            return false
        }
    }

    /// The sealer and opener a relay or remote exec thread takes over from `c` (their
    /// counters go on there); nil on a plaintext connection.
    func sealing(of c: Connection) -> (sealer: FrameSealer, opener: FrameOpener)? {
        guard let sealer = c.security.sealer, let opener = c.security.opener else { return nil }
        return (sealer, opener)
    }
}
