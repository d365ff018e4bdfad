// Incremental frame parser, used by whichever thread holds a connection's reader role
// (one at a time, so the buffered bytes survive hand-overs). Small frames are parsed out
// of one receive buffer; a large payload is received straight into its own array, so
// READ data is copied once (kernel to array) before it goes to FUSE.
#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol

final class FrameReader {
    let fd: Int32
    static let bufferSize = 64 * 1024
    private let buf = UnsafeMutableRawPointer.allocate(byteCount: FrameReader.bufferSize, alignment: 8)
    private var start = 0, end = 0   // unparsed bytes are buf[start..<end]

    init(fd: Int32) { self.fd = fd }

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
        guard let h = try? FrameHeader.decode(UnsafeRawBufferPointer(start: buf + start, count: Wire.headerSize)) else {
            return nil
        }
        start += Wire.headerSize
        let have = min(end - start, Int(h.length))
        guard let payload = readPayload(Int(h.length), buf + start, have) else { return nil }
        start += have
        return (h, payload)
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
