// Whole frames: header plus payload.

extension FrameHeader {
    /// Builds a complete frame (header followed by the encoded payload).
    public static func frame<P: WirePayload>(kind: FrameKind, opcode: Opcode, id: UInt64,
                                             status: UInt32 = 0, payload: consuming P) -> [UInt8] {
        var w = WireWriter(capacity: Wire.headerSize + 128)
        FrameHeader(kind: kind, opcode: opcode.rawValue, id: id, length: 0, status: status).encode(into: &w)
        P.writeFields(of: payload, into: &w)
        w.patchU32(at: 16, UInt32(w.bytes.count - Wire.headerSize))
        return w.bytes
    }

    /// An error response: the status carries the errno and the payload is empty.
    public static func errorFrame(opcode: UInt16, id: UInt64, errno: Int32) -> [UInt8] {
        var w = WireWriter(capacity: Wire.headerSize)
        FrameHeader(kind: .response, opcode: opcode, id: id, length: 0, status: UInt32(errno)).encode(into: &w)
        return w.bytes
    }
}
