// Sealed frames on the server (docs/protocol.md, "Sealed frames"): the suite chosen in
// HELLO by the server's crypt mode, the session keys once AUTH_RESPONSE succeeded, and
// each frame opened in the receive buffer and sealed in its send buffer, in place. Frames
// are sealed in the order they are queued, which is the order they go out, so the
// counters of both ends agree. A connection without a suite never comes here.
import Glibc
import Logging
import QtfsAuth
import QtfsProtocol

extension Engine {
    /// Picks HELLO's suite by the crypt mode and what the client offered. False when the
    /// client must be refused (crypt aead and it offered no suite).
    func chooseSuite(_ c: Connection, offered: UInt64, client: String) -> Bool {
        c.suite = admission.crypt == .none ? nil : Engine.preferredSuite(offered: offered)
        c.cell.crypt = c.suite?.description ?? "none"
        guard c.suite == nil, admission.crypt != .none else { return true }
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
            (c.sealer, c.opener) = try keys.channel(forClient: false)
        } catch {
            logger.error("cannot set up sealing, closing", metadata: ["conn.peer": "\(c.peer)", "error": "\(error)"])
            closeConnection(c, reason: "no cipher: \(error)")
        }
    }

    /// The largest `length` a request header may carry on this connection.
    func maxRequestLength(_ c: Connection) -> Int {
        c.opener == nil ? config.maxFrame : Sealed.maxSealedLength(maxPayload: config.maxFrame)
    }

    /// Opens the complete sealed frame at `frame` in place; its plain header, or nil after
    /// closing the connection (a forged, dropped, reordered or replayed frame).
    func openFrame(_ c: Connection, _ opener: FrameOpener, _ frame: UnsafeMutableRawPointer, _ total: Int) -> FrameHeader? {
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
            closeConnection(c, reason: "sealed frame #\(counter) failed to open")
            return nil
        }
    }

    /// Seals `b` in place before it is queued; false after closing the connection (the
    /// counter ran out, which never happens in practice).
    func sealOut(_ c: Connection, _ sealer: FrameSealer, _ b: OutBuffer) -> Bool {
        do {
            let payload = b.count - Wire.headerSize
            b.count = try sealer.seal(UnsafeMutableRawBufferPointer(start: b.base, count: b.capacity), payloadLength: payload)
            return true
        } catch {
            logger.warning("cannot seal a frame, closing", metadata: ["conn.peer": "\(c.peer)", "error": "\(error)"])
            closeConnection(c, reason: "sealing failed: \(error)")
            return false
        }
    }

    /// Requests that turn the connection into a byte relay on another thread.
    static let relayOps: Set<UInt16> = [Opcode.sockConnect.rawValue, Opcode.sockAccept.rawValue, Opcode.rexecStart.rawValue]

    /// Relays do not seal their bytes yet (STREAM frames, docs/protocol.md "Relays on a
    /// sealed connection"): refused rather than sent in plaintext on a sealed connection.
    func refuseSealedRelay(_ c: Connection, _ h: FrameHeader) {
        logger.warning("unix socket relays and remote exec are not available on sealed connections yet; refused (use crypt=none on both ends for them on a trusted link)",
                       metadata: ["conn.peer": "\(c.peer)", "req.op": "\(h.opcode)"])
        fail(c, h, EOPNOTSUPP)
    }
}
