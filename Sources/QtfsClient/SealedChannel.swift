// The client's half of a sealed connection (docs/protocol.md, "Sealed frames"): the
// sealer for what it sends and the opener for what it receives, made from the session
// keys of its handshake. Frames are sealed in the order they are written to the socket
// (under the owner's send lock) and opened in the order they are read (by the one reader),
// so both counters follow the TCP stream.
#if canImport(Glibc)
import Glibc
#endif
import QtfsAuth
import QtfsProtocol

public final class SealedChannel: @unchecked Sendable {
    public let suite: Sealed.Suite
    /// Used only under the owner's send lock.
    public let sealer: FrameSealer
    /// Used only by whoever reads the socket (one reader at a time).
    public let opener: FrameOpener
    /// Where a frame is assembled and sealed (send lock): WRITE data arrives read-only.
    private var scratch: UnsafeMutableRawPointer
    private var scratchSize = 64 * 1024

    init(_ keys: SessionKeys) throws {
        (sealer, opener) = try keys.channel(forClient: true)
        suite = keys.suite
        scratch = .allocate(byteCount: scratchSize, alignment: 16)
    }

    deinit { scratch.deallocate() }

    /// Seals the frame `head` (header and the start of the payload; its length field
    /// counting the plain payload) + `tail` and writes it to `fd`. Call with the send lock.
    func send(_ fd: Int32, _ head: UnsafeRawBufferPointer, _ tail: UnsafeRawBufferPointer?) -> Bool {
        let plain = head.count + (tail?.count ?? 0)
        let total = plain + Sealed.tagSize
        if total > scratchSize {
            scratch.deallocate()
            scratchSize = total
            scratch = .allocate(byteCount: total, alignment: 16)
        }
        scratch.copyMemory(from: head.baseAddress!, byteCount: head.count)
        if let tail, tail.count > 0 { (scratch + head.count).copyMemory(from: tail.baseAddress!, byteCount: tail.count) }
        let frame = UnsafeMutableRawBufferPointer(start: scratch, count: total)
        guard let n = try? sealer.seal(frame, payloadLength: plain - Wire.headerSize) else { return false }
        return SocketIO.sendAll(fd, [UnsafeRawBufferPointer(start: scratch, count: n)])
    }
}

extension Connection {
    /// Switches this connection to sealed frames after AUTH_RESPONSE was answered; the
    /// channel is kept in `sealing`.
    func startSealing(_ keys: SessionKeys) throws {
        let channel: SealedChannel
        do { channel = try SealedChannel(keys) } catch {
            throw ConnectError("cannot set up \(keys.suite) for sealed frames: \(error); the cipher library is built into "
                               + "qtfs: reinstall it, or use crypt=none on both ends of a link you trust", errno: LinuxErrno.EIO)
        }
        setSealing(channel)
    }

    /// How this connection's frames travel (qtinfo): the suite's name, or "none".
    public var cryptName: String { sealing?.suite.description ?? "none" }
}

/// Writes one frame to `fd`, sealed when `channel` is given (then the caller holds the
/// send lock the channel's sealer needs); plaintext exactly as before otherwise.
func writeFrame(_ fd: Int32, _ head: [UInt8], _ tail: UnsafeRawBufferPointer?, sealed channel: SealedChannel?) -> Bool {
    head.withUnsafeBytes { h in
        if let channel { return channel.send(fd, h, tail) }
        var parts = [h]
        if let tail, tail.count > 0 { parts.append(tail) }
        return SocketIO.sendAll(fd, parts)
    }
}
