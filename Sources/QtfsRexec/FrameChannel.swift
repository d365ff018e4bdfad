// A remote-exec connection seen as frames: buffered, non-blocking reads that yield whole
// frames (header checked before the payload is kept) and a queue of frames to send.
#if canImport(Glibc)
import Glibc
#endif
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

    /// Takes `fd` (a connected stream socket) and makes it non-blocking; `received` are
    /// bytes already read from it.
    public init(fd: Int32, received: [UInt8] = []) {
        self.fd = fd
        input = received
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    deinit { close(fd) }

    /// Bytes queued and not yet sent.
    public var pendingOutput: Int { output.count - outputStart }

    /// Reads what the socket has. False when the peer closed it.
    public func receive() throws -> Bool {
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { input += chunk[0..<n]; if n < chunk.count { return true }; continue }
            if n == 0 { return false }
            if errno == EINTR { continue }
            if errno == EAGAIN { return true }
            throw Errno.current(call: "recv")
        }
    }

    /// The next complete frame, nil when more bytes are needed. A bad header throws: the
    /// stream cannot be trusted after it.
    public func nextFrame() throws -> (FrameHeader, [UInt8])? {
        let available = input.count - inputStart
        guard available >= Wire.headerSize else { compact(); return nil }
        let h = try input.withUnsafeBytes {
            try FrameHeader.decode(UnsafeRawBufferPointer(rebasing: $0[inputStart..<inputStart + Wire.headerSize]))
        }
        let total = Wire.headerSize + Int(h.length)
        guard available >= total else { compact(); return nil }
        let payload = Array(input[inputStart + Wire.headerSize..<inputStart + total])
        inputStart += total
        return (h, payload)
    }

    private func compact() {
        if inputStart > 0 { input.removeSubrange(0..<inputStart); inputStart = 0 }
    }

    /// Queues an event (kind 2, id 0) of `opcode`.
    public func send<P: WirePayload>(_ opcode: Opcode, _ payload: P) {
        output += FrameHeader.frame(kind: .event, opcode: opcode, id: 0, payload: payload)
    }

    public func sendRaw(_ frame: [UInt8]) { output += frame }

    /// Writes as much of the queue as the socket takes now.
    public func flush() throws {
        while outputStart < output.count {
            let n = output.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + outputStart, $0.count - outputStart, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { outputStart += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { break }
            throw Errno.current(call: "send")
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
