// Messages for streams (fifos): cancelling a waiting request and readiness polling
// (docs/protocol.md, "Streams: cancel and poll").

/// CANCEL: the request `target` (sent earlier on this connection) is still waiting; the
/// server stops it and answers it with EINTR. CANCEL itself gets an empty answer
/// (ENOENT when nothing with that id was waiting: it had already been answered).
public struct CancelRequest: WirePayload {
    public var target: UInt64
    public init(target: UInt64) { self.target = target }
    public static var unfilled: CancelRequest { CancelRequest(target: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) { try c.u64(&target, "id of the request to cancel") }
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
    public static var unfilled: PollRequest { PollRequest(handle: 0, events: 0, notify: false) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u64(&handle, "handle"); try c.u32(&events, "events (POLLIN 1, POLLOUT 4)")
        try c.bool32(&notify, "1 = arm POLL_READY", field: "notify")
    }
}

/// POLL answer, and the payload of a POLL_READY event (then with the handle it is about).
public struct PollReply: WirePayload {
    public var revents: UInt32
    public init(revents: UInt32) { self.revents = revents }
    public static var unfilled: PollReply { PollReply(revents: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u32(&revents, "ready mask (POLLIN 1, POLLOUT 4, POLLERR 8, POLLHUP 16)")
    }
}

/// POLL_READY event: kind 2, id 0, status 0.
public struct PollReadyEvent: WirePayload {
    public var handle: UInt64
    public var revents: UInt32
    public init(handle: UInt64, revents: UInt32) { self.handle = handle; self.revents = revents }
    public static var unfilled: PollReadyEvent { PollReadyEvent(handle: 0, revents: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.u64(&handle, "handle"); try c.u32(&revents, "ready mask")
    }
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
    public static var unfilled: SockConnectRequest { SockConnectRequest(caller: .unfilled, path: [], type: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try caller.layout(&c); try c.bytes16(&path, "socket path", .socketPath)
        try Self.layout(type: &type, &c)
        try c.require(path.first == UInt8(ascii: "/"), .invalid(field: "path"))
    }

    /// 1 or 5, with or without `passFiles`.
    static func layout<C: WireCoder>(type: inout UInt32, _ c: inout C) throws(C.Failure) {
        try c.u32(&type, "1 stream, 5 seqpacket; +0x100 pass files")
        let socket = type & ~passFiles
        try c.require(socket == stream || socket == seqpacket, .invalid(field: "type"))
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
    public static var unfilled: SockGrant { SockGrant(flags: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) { try c.u32(&flags, "granted: 0x100 pass files") }
}

/// SOCK_LISTEN: create a listening unix socket at host `path` (absolute, allowed by the
/// server's `unix_listen`) of `type` (as SOCK_CONNECT's; with `passFiles`, every relay of
/// its connections passes descriptors when granted); it lives as long as this connection. Each host
/// connection to it is announced with a SOCK_INCOMING event.
public struct SockListenRequest: WirePayload {
    public var path: [UInt8]
    public var type: UInt32
    public init(path: [UInt8], type: UInt32) { self.path = path; self.type = type }
    public static var unfilled: SockListenRequest { SockListenRequest(path: [], type: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) {
        try c.bytes16(&path, "socket path", .socketPath)
        try SockConnectRequest.layout(type: &type, &c)
        try c.require(path.first == UInt8(ascii: "/"), .invalid(field: "path"))
    }
}

/// SOCK_ACCEPT request, and the SOCK_INCOMING event (kind 2, id 0): `token` names one
/// accepted host connection waiting for its relay.
public struct SockTokenMessage: WirePayload {
    public var token: UInt64
    public init(token: UInt64) { self.token = token }
    public static var unfilled: SockTokenMessage { SockTokenMessage(token: 0) }
    public mutating func layout<C: WireCoder>(_ c: inout C) throws(C.Failure) { try c.u64(&token, "token of the accepted connection") }
}

extension TextLimit {
    /// A unix socket's path: sun_path holds 108 bytes with the NUL.
    public static let socketPath = TextLimit(107, field: "path")
}
