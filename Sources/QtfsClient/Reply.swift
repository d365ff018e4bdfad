import QtfsProtocol

/// A response: `status` 0 with the payload, or a Linux errno with an empty payload.
public struct Reply: Sendable {
    public var status: Int32
    public var payload: [UInt8]
    public init(status: Int32, payload: [UInt8]) { self.status = status; self.payload = payload }

    public static let eio = Reply(status: LinuxErrno.EIO, payload: [])

    /// Decodes a successful payload; an errno status or an undecodable payload throws.
    public func decode<P: WirePayload>(_: P.Type) throws -> P {
        if status != 0 { throw FSError(status) }
        do { return try P.decode(payload) } catch { throw FSError(LinuxErrno.EIO) }
    }

    /// Throws the status, for operations whose reply is empty.
    public func check() throws {
        if status != 0 { throw FSError(status) }
    }
}

/// A failed operation: a Linux errno to hand back to the kernel.
public struct FSError: Error, Equatable, Sendable {
    public let errno: Int32
    public init(_ errno: Int32) { self.errno = errno }
}
