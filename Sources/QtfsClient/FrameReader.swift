// Incremental frame parser, used by whichever thread holds a connection's reader role
// (one at a time, so the buffered bytes survive hand-overs). Small frames are parsed out
// of one receive buffer; a large payload is received straight into its own array, so
// READ data is copied once (kernel to array) before it goes to FUSE.
#if canImport(Glibc)
import Glibc
#endif
import Logging
import QtfsAuth
import QtfsProtocol

final class FrameReader {
    let fd: Int32
    static let bufferSize = 64 * 1024
    private let buf = UnsafeMutableRawPointer.allocate(byteCount: FrameReader.bufferSize, alignment: 8)
    private var start = 0, end = 0   // unparsed bytes are buf[start..<end]

    /// Opens each frame once the connection is sealed (set by the handshake).
    var opener: FrameOpener?

    private let logger: Logger

    init(fd: Int32, opener: FrameOpener? = nil, logger: Logger) { self.fd = fd; self.opener = opener; self.logger = logger }

    /// Bytes of a next frame already received (then `next` needs no poll first).
    var hasBufferedBytes: Bool { end > start }
    deinit { buf.deallocate() }

    /// The next frame; nil at EOF, on an error or a bad header (the stream is then useless).
    func next() -> (FrameHeader, [UInt8])? {
        while end - start < Wire.headerSize {
            if start > 0 {  // keep a partial header at the front of the buffer
                buf.copyMemory(from: buf + start, byteCount: end - start)
                end -= start
                start = 0
            }
            let n = SocketIO.recvSome(fd, buf + end, Self.bufferSize - end)
            if n <= 0 { return nil }
            end += n
        }
        let limit = opener == nil ? Wire.maxPayload : Sealed.maxSealedLength()
        guard var h = try? FrameHeader.decode(UnsafeRawBufferPointer(start: buf + start, count: Wire.headerSize), maxLength: limit),
              opener == nil || h.length >= Sealed.tagSize else {
            return nil
        }
        let header = buf + start
        start += Wire.headerSize
        let have = min(end - start, Int(h.length))
        guard var payload = readPayload(Int(h.length), buf + start, have) else { return nil }
        start += have
        if let opener {
            guard let n = open(opener, header, &payload) else { return nil }
            h.length = UInt32(n)
        }
        return (h, payload)
    }

    /// Opens a sealed frame: its header at `header`, its ciphertext and tag in `payload`,
    /// which becomes the plain payload. Nil (and a log line) when it fails: the stream
    /// has been tampered with and must be closed.
    private func open(_ opener: FrameOpener, _ header: UnsafeMutableRawPointer, _ payload: inout [UInt8]) -> Int? {
        let counter = opener.counter
        do {
            let n = try payload.withUnsafeMutableBytes {
                try opener.open(header: UnsafeMutableRawBufferPointer(start: header, count: Wire.headerSize), body: $0)
            }
            payload.removeLast(Sealed.tagSize)
            return n
        } catch {
            logger.error("sealed frame #\(counter) from \(Self.peerName(fd)) failed to open (\(error)); closing the connection")
            return nil
        }
    }

    /// The peer's address for log lines ("host port").
    static func peerName(_ fd: Int32) -> String {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var host = [CChar](repeating: 0, count: 64), port = [CChar](repeating: 0, count: 8)
        let ok = withUnsafeMutablePointer(to: &ss) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getpeername(fd, $0, &len) == 0 &&
                    getnameinfo($0, len, &host, 64, &port, 8, NI_NUMERICHOST | NI_NUMERICSERV) == 0
            }
        }
        return ok ? "\(String(cString: host)):\(String(cString: port))" : "the server"
    }

    /// Builds a payload of `length` bytes: `have` already buffered at `from`, the rest
    /// received directly into the array. Nil if the stream ends first.
    private func readPayload(_ length: Int, _ from: UnsafeMutableRawPointer, _ have: Int) -> [UInt8]? {
        if length == 0 { return [] }
        var ok = true
        let payload = [UInt8](unsafeUninitializedCapacity: length) { out, count in
            let base = UnsafeMutableRawPointer(out.baseAddress!)
            base.copyMemory(from: from, byteCount: have)
            var got = have
            while got < length {
                let n = SocketIO.recvSome(fd, base + got, length - got)
                if n <= 0 { ok = false; break }
                got += n
            }
            count = ok ? length : 0
        }
        return ok ? payload : nil
    }
}
