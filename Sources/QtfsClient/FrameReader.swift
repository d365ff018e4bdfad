// Incremental frame parser for the reader thread. Small frames are parsed out of one
// receive buffer; a large payload is received straight into its own array, so READ data
// is copied once (kernel to array) before it goes to FUSE.
#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol

struct FrameReader {
    let fd: Int32
    static let bufferSize = 64 * 1024

    /// Reads frames until EOF, an error or a bad header, delivering each to `conn`.
    func run(_ conn: Connection) {
        let buf = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 8)
        defer { buf.deallocate() }
        var start = 0, end = 0
        while true {
            while end - start >= Wire.headerSize {
                let h: FrameHeader
                do {
                    h = try FrameHeader.decode(UnsafeRawBufferPointer(start: buf + start, count: Wire.headerSize))
                } catch {
                    return  // the stream cannot be trusted any more
                }
                start += Wire.headerSize
                let have = min(end - start, Int(h.length))
                guard let payload = readPayload(Int(h.length), buf + start, have) else { return }
                start += have
                conn.deliver(h, payload)
            }
            if start > 0 {  // keep a partial header at the front of the buffer
                buf.copyMemory(from: buf + start, byteCount: end - start)
                end -= start
                start = 0
            }
            let n = SocketIO.recvSome(fd, buf + end, Self.bufferSize - end)
            if n <= 0 { return }
            end += n
        }
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
