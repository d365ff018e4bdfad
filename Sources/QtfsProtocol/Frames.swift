// Whole frames: header plus payload.

extension WireWriter {
    /// Sets the length of the frame this writer holds (header first) to what follows the
    /// header, plus `more` bytes sent after it from elsewhere.
    public mutating func setFrameLength(plus more: Int = 0) {
        patchU32(at: FrameHeader.lengthOffset, UInt32(bytes.count - Wire.headerSize + more))
    }
}

extension FrameHeader {
    /// Builds a complete frame (header followed by the encoded payload).
    public static func frame<P: WirePayload>(kind: FrameKind, opcode: Opcode, id: UInt64,
                                             status: UInt32 = 0, payload: consuming P) -> [UInt8] {
        var w = WireWriter(capacity: Wire.headerSize + 128)
        FrameHeader(kind: kind, opcode: opcode.rawValue, id: id, length: 0, status: status).encode(into: &w)
        P.writeFields(of: payload, into: &w)
        w.setFrameLength()
        return w.bytes
    }

    /// An error response: the status carries the errno and the payload is empty.
    public static func errorFrame(opcode: UInt16, id: UInt64, errno: Int32) -> [UInt8] {
        var w = WireWriter(capacity: Wire.headerSize)
        FrameHeader(kind: .response, opcode: opcode, id: id, length: 0, status: UInt32(errno)).encode(into: &w)
        return w.bytes
    }
}
