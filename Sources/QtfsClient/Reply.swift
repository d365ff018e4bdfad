#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol
import QtfsSystem

/// A response: `status` 0 with the payload, or a Linux errno with an empty payload.
public struct Reply: Sendable {
    public var status: Int32
    public var payload: [UInt8]
    /// Set when no answer came from the server (the status is then EIO, ETIMEDOUT or EINTR).
    public var failure: Failure?
    public init(status: Int32, payload: [UInt8], failure: Failure? = nil) {
        self.status = status; self.payload = payload; self.failure = failure
    }

    /// Why a request has no answer: decides whether the session may send it again.
    public enum Failure: Sendable, Equatable {
        case notSent       // the connection was dead before the request went out: safe to resend
        case lost          // sent, then the connection died: the server may or may not have done it
        case timedOut      // soft mount: no answer within timeo
        case interrupted   // the caller was interrupted (FUSE INTERRUPT)
    }

    public static let eio = Reply(status: LinuxErrno.EIO, payload: [], failure: .lost)
    public static let notSent = Reply(status: LinuxErrno.EIO, payload: [], failure: .notSent)
    public static let timedOut = Reply(status: LinuxErrno.ETIMEDOUT, payload: [], failure: .timedOut)
    public static let interrupted = Reply(status: EINTR, payload: [], failure: .interrupted)

    /// Decodes a successful payload; an errno status or an undecodable payload throws.
    public func decode<P: WirePayload>(_: P.Type) throws -> P {
        if status != 0 { throw Errno(status) }
        do { return try P.decode(payload) } catch { throw Errno(LinuxErrno.EIO) }
    }

    /// Throws the status, for operations whose reply is empty.
    public func check() throws {
        if status != 0 { throw Errno(status) }
    }
}

