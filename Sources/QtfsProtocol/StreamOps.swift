// Messages for streams (fifos): cancelling a waiting request and readiness polling
// (docs/protocol.md, "Streams: cancel and poll").

/// CANCEL: the request `target` (sent earlier on this connection) is still waiting; the
/// server stops it and answers it with EINTR. CANCEL itself gets an empty answer
/// (ENOENT when nothing with that id was waiting: it had already been answered).
public struct CancelRequest: WirePayload {
    public var target: UInt64
    public init(target: UInt64) { self.target = target }
    public func encode(into w: inout WireWriter) { w.u64(target, "id of the request to cancel") }
    public init(from r: inout WireReader) throws { target = try r.u64("target") }
}

/// POLL: the handle's ready mask now, for `events` (poll(2) bits). With `notify` = 1 the
/// server also arms a one-shot watch and sends a POLL_READY event when it fires.
public struct PollRequest: WirePayload {
    public var handle: UInt64
    public var events: UInt32
    public var notify: Bool
    public init(handle: UInt64, events: UInt32, notify: Bool) {
        self.handle = handle; self.events = events; self.notify = notify
    }
    public func encode(into w: inout WireWriter) {
        w.u64(handle, "handle"); w.u32(events, "events (POLLIN 1, POLLOUT 4)"); w.u32(notify ? 1 : 0, "1 = arm POLL_READY")
    }
    public init(from r: inout WireReader) throws {
        handle = try r.u64("handle"); events = try r.u32("events")
        let n = try r.u32("notify")
        guard n <= 1 else { throw WireError.invalid(field: "notify") }
        notify = n == 1
    }
}

/// POLL answer, and the payload of a POLL_READY event (then with the handle it is about).
public struct PollReply: WirePayload {
    public var revents: UInt32
    public init(revents: UInt32) { self.revents = revents }
    public func encode(into w: inout WireWriter) { w.u32(revents, "ready mask (POLLIN 1, POLLOUT 4, POLLERR 8, POLLHUP 16)") }
    public init(from r: inout WireReader) throws { revents = try r.u32("revents") }
}

/// POLL_READY event: kind 2, id 0, status 0.
public struct PollReadyEvent: WirePayload {
    public var handle: UInt64
    public var revents: UInt32
    public init(handle: UInt64, revents: UInt32) { self.handle = handle; self.revents = revents }
    public func encode(into w: inout WireWriter) { w.u64(handle, "handle"); w.u32(revents, "ready mask") }
    public init(from r: inout WireReader) throws { handle = try r.u64("handle"); revents = try r.u32("revents") }
}

/// READ and WRITE on a non-seekable handle ignore `offset`, except this bit: set, the
/// operation does not wait (EAGAIN instead), as for an O_NONBLOCK file.
public enum StreamOffset {
    public static let noWait: UInt64 = 1 << 63
}

/// SOCK_CONNECT: connect to the host unix socket `path` (absolute) of `type` (1
/// SOCK_STREAM, 5 SOCK_SEQPACKET, plus `passFiles` to ask for descriptor passing) as
/// `caller`. After the answer the connection carries that socket's data (docs/protocol.md,
/// "Unix socket bridge").
public struct SockConnectRequest: WirePayload {
    public static let stream: UInt32 = 1
    public static let seqpacket: UInt32 = 5
    /// Added to `type`: relay file descriptors too (only to a server whose HELLO announced
    /// `HelloReply.capSockFiles`); the answer is then a `SockGrant`.
    public static let passFiles: UInt32 = 0x100
    public var caller: Caller
    public var path: [UInt8]
    public var type: UInt32
    public init(caller: Caller, path: [UInt8], type: UInt32) { self.caller = caller; self.path = path; self.type = type }
    public func encode(into w: inout WireWriter) {
        caller.encode(into: &w); w.bytes16(path, "socket path"); w.u32(type, "1 stream, 5 seqpacket; +0x100 pass files")
    }
    public init(from r: inout WireReader) throws {
        caller = try Caller(from: &r)
        path = try r.bytes16("path", limit: 107)
        type = try Self.decodeType(&r)
        guard path.first == UInt8(ascii: "/"), !path.contains(0) else { throw WireError.invalid(field: "path") }
    }

    /// 1 or 5, with or without `passFiles`.
    static func decodeType(_ r: inout WireReader) throws -> UInt32 {
        let type = try r.u32("type")
        let socket = type & ~passFiles
        guard socket == stream || socket == seqpacket else { throw WireError.invalid(field: "type") }
        return type
    }
}

/// The socket type and the descriptor-passing flag of SOCK_CONNECT's and SOCK_LISTEN's `type`.
public protocol SockTyped {
    var type: UInt32 { get }
}

extension SockTyped {
    public var seqpacket: Bool { type & ~SockConnectRequest.passFiles == SockConnectRequest.seqpacket }
    public var socketType: UInt32 { type & ~SockConnectRequest.passFiles }
    public var asksForFiles: Bool { type & SockConnectRequest.passFiles != 0 }
}

extension SockConnectRequest: SockTyped {}
extension SockListenRequest: SockTyped {}

/// The answer to SOCK_CONNECT and SOCK_LISTEN that asked for `passFiles` (an empty answer
/// otherwise): the flags the relay uses, `passFiles` when granted, 0 when not.
public struct SockGrant: WirePayload {
    public var flags: UInt32
    public init(flags: UInt32) { self.flags = flags }
    public var passesFiles: Bool { flags & SockConnectRequest.passFiles != 0 }
    public func encode(into w: inout WireWriter) { w.u32(flags, "granted: 0x100 pass files") }
    public init(from r: inout WireReader) throws { flags = try r.u32("flags") }
}

/// SOCK_LISTEN: create a listening unix socket at host `path` (absolute, allowed by the
/// server's `unix_listen`) of `type` (as SOCK_CONNECT's; with `passFiles`, every relay of
/// its connections passes descriptors when granted); it lives as long as this connection. Each host
/// connection to it is announced with a SOCK_INCOMING event.
public struct SockListenRequest: WirePayload {
    public var path: [UInt8]
    public var type: UInt32
    public init(path: [UInt8], type: UInt32) { self.path = path; self.type = type }
    public func encode(into w: inout WireWriter) { w.bytes16(path, "socket path"); w.u32(type, "1 stream, 5 seqpacket; +0x100 pass files") }
    public init(from r: inout WireReader) throws {
        path = try r.bytes16("path", limit: 107)
        type = try SockConnectRequest.decodeType(&r)
        guard path.first == UInt8(ascii: "/"), !path.contains(0) else { throw WireError.invalid(field: "path") }
    }
}

/// SOCK_ACCEPT request, and the SOCK_INCOMING event (kind 2, id 0): `token` names one
/// accepted host connection waiting for its relay.
public struct SockTokenMessage: WirePayload {
    public var token: UInt64
    public init(token: UInt64) { self.token = token }
    public func encode(into w: inout WireWriter) { w.u64(token, "token of the accepted connection") }
    public init(from r: inout WireReader) throws { token = try r.u64("token") }
}
