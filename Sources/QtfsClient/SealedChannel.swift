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
    /// `before`: bytes already sealed (held frames) that go first, in the same sendmsg.
    func send(_ fd: Int32, _ head: UnsafeRawBufferPointer, _ tail: UnsafeRawBufferPointer?,
              after before: UnsafeRawBufferPointer? = nil) -> Bool {
        guard let n = seal(head, tail) else { return false }
        let frame = UnsafeRawBufferPointer(start: scratch, count: n)
        return SocketIO.sendAll(fd, before.map { [$0, frame] } ?? [frame])
    }

    /// The sealed bytes of the frame `head`, to be sent later in stream order (held frames).
    /// Call with the send lock.
    func sealed(_ head: [UInt8]) -> [UInt8]? {
        head.withUnsafeBytes { h in
            seal(h, nil).map { Array(UnsafeRawBufferPointer(start: scratch, count: $0)) }
        }
    }

    /// Seals head + tail into `scratch`; the sealed length.
    private func seal(_ head: UnsafeRawBufferPointer, _ tail: UnsafeRawBufferPointer?) -> Int? {
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
        return try? sealer.seal(frame, payloadLength: plain - Wire.headerSize)
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
/// `before`: bytes already sealed (held frames) that go first, in the same sendmsg.
func writeFrame(_ fd: Int32, _ head: [UInt8], _ tail: UnsafeRawBufferPointer?, sealed channel: SealedChannel?,
                after before: UnsafeRawBufferPointer? = nil) -> Bool {
    head.withUnsafeBytes { h in
        if let channel { return channel.send(fd, h, tail, after: before) }
        var parts = before.map { [$0, h] } ?? [h]
        if let tail, tail.count > 0 { parts.append(tail) }
        return SocketIO.sendAll(fd, parts)
    }
}
