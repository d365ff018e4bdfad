// A remote-exec connection seen as frames: buffered, non-blocking reads that yield whole
// frames (header checked before the payload is kept) and a queue of frames to send. On a
// sealed connection every frame is sealed as it is queued and opened as it is taken
// (docs/protocol.md, "Sealed frames"); one that fails to open ends the channel.
#if canImport(Glibc)
import Glibc
#endif
import QtfsAuth
import QtfsProtocol
import QtfsSystem

public final class FrameChannel {
    public let fd: Int32
    private var input: [UInt8] = []
    private var inputStart = 0
    private var output: [UInt8] = []
    private var outputStart = 0
    /// Where recv lands before the bytes join `input` (kept: one allocation per channel).
    private var chunk = [UInt8](repeating: 0, count: 256 << 10)
    private let sealer: FrameSealer?
    private let opener: FrameOpener?
    /// Why a frame could not be sealed: the channel must close (thrown by `flush`).
    private var broken: SealError?

    /// Takes `fd` (a connected stream socket) and makes it non-blocking; `received` are
    /// bytes already read from it. `sealing`: the connection's sealer and opener after its
    /// handshake (their counters continue here); nil on a plaintext connection.
    public init(fd: Int32, received: [UInt8] = [], sealing: (sealer: FrameSealer, opener: FrameOpener)? = nil) {
        self.fd = fd
        input = received
        sealer = sealing?.sealer
        opener = sealing?.opener
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Whether frames are sealed on this channel.
    public var isSealed: Bool { sealer != nil }
    deinit { close(fd) }

    /// Bytes queued and not yet sent.
    public var pendingOutput: Int { output.count - outputStart }

    /// Reads what the socket has. False when the peer closed it.
    public func receive() throws -> Bool {
        while true {
            let n: Int
            do { n = try sys("recv") { chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } } } catch let e as Errno where e.code == EAGAIN {
                return true
            }
            if n == 0 { return false }
            input += chunk[0..<n]
            if n < chunk.count { return true }
        }
    }

    /// The next complete frame, nil when more bytes are needed. A bad header throws: the
    /// stream cannot be trusted after it; so does a sealed frame that fails to open
    /// (`SealError`: altered, dropped, reordered, replayed or injected).
    public func nextFrame() throws -> (FrameHeader, [UInt8])? {
        let available = input.count - inputStart
        guard available >= Wire.headerSize else { compact(); return nil }
        var h = try input.withUnsafeBytes {
            try FrameHeader.decode(UnsafeRawBufferPointer(rebasing: $0[inputStart..<inputStart + Wire.headerSize]),
                                   maxLength: opener == nil ? Wire.maxPayload : Sealed.maxSealedLength())
        }
        let total = Wire.headerSize + Int(h.length)
        guard available >= total else { compact(); return nil }
        if let opener {
            let n = try input.withUnsafeMutableBytes { try opener.open(UnsafeMutableRawBufferPointer(rebasing: $0[inputStart..<inputStart + total])) }
            h.length = UInt32(n)
        }
        let payload = Array(input[inputStart + Wire.headerSize..<inputStart + Wire.headerSize + Int(h.length)])
        inputStart += total
        return (h, payload)
    }

    private func compact() {
        if inputStart > 0 { input.removeSubrange(0..<inputStart); inputStart = 0 }
    }

    /// Queues an event (kind 2, id 0) of `opcode`.
    public func send<P: WirePayload>(_ opcode: Opcode, _ payload: P) {
        sendRaw(FrameHeader.frame(kind: .event, opcode: opcode, id: 0, payload: payload))
    }

    /// Queues a whole plain frame (header and payload), sealed on a sealed channel.
    public func sendRaw(_ frame: [UInt8]) {
        guard let sealer else { output += frame; return }
        guard broken == nil else { return }
        let start = output.count
        output += frame
        output += repeatElement(0, count: Sealed.tagSize)
        do {
            _ = try output.withUnsafeMutableBytes {
                try sealer.seal(UnsafeMutableRawBufferPointer(rebasing: $0[start...]), payloadLength: frame.count - Wire.headerSize)
            }
        } catch {
            output.removeSubrange(start...)
            broken = error as? SealError ?? .malformed("\(error)")
        }
    }

    /// Writes as much of the queue as the socket takes now; throws when the channel is
    /// broken (a frame could not be sealed).
    public func flush() throws {
        if let broken { throw broken }
        while outputStart < output.count {
            do {
                outputStart += try sys("send") {
                    output.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + outputStart, $0.count - outputStart, Int32(MSG_NOSIGNAL)) }
                }
            } catch let e as Errno where e.code == EAGAIN { break }
        }
        if outputStart == output.count { output.removeAll(keepingCapacity: true); outputStart = 0 }
    }

    /// The last words: sends the queue, says this side is done (FIN), and reads and drops
    /// what the peer still sends until it closes too. Closing with unread input would
    /// send a reset, which can destroy the peer's last unread frames (the exit status).
    public func finish(within seconds: Double) {
        drain(within: seconds)
        shutdown(fd, Int32(SHUT_WR))
        let deadline = MonotonicClock.now() + seconds
        var sink = [UInt8](repeating: 0, count: 64 << 10)
        while MonotonicClock.now() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, MonotonicClock.pollTimeout(until: deadline)) > 0 else { return }
            let n = sink.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) { return }
        }
    }

    /// Sends the whole queue, waiting up to `seconds` for the peer to take it.
    public func drain(within seconds: Double) {
        let deadline = MonotonicClock.now() + seconds
        while pendingOutput > 0, MonotonicClock.now() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, MonotonicClock.pollTimeout(until: deadline))
            if (try? flush()) == nil { return }
        }
    }
}
