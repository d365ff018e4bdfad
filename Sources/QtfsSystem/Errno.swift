// The one errno error type and the one syscall funnel of the project: every call that can
// fail goes through `sys`, which retries EINTR and throws `Errno`. Tests can replace the
// result of a named call through `SyscallSeam` to force EINTR, ENOSPC and the like.
#if canImport(Glibc)
import Glibc
#endif

/// A Linux errno, with the call that produced it when known.
public struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32
    public let call: String
    public init(_ code: Int32, call: String = "") { self.code = code; self.call = call }

    /// The calling thread's errno now.
    public static func current(call: String = "") -> Errno { Errno(Glibc.errno, call: call) }

    public var text: String { String(cString: strerror(code)) }
    public var description: String { call.isEmpty ? text : "\(call): \(text)" }

    public static func == (a: Errno, b: Errno) -> Bool { a.code == b.code }
}

/// Calls `body` until it does not fail with EINTR; a negative result throws `Errno`.
/// `name` labels the error and is the key tests use to inject results. Inlinable, so each
/// caller gets it specialized for its integer type (it sits under every request's I/O).
@inlinable @inline(__always) @discardableResult
public func sys<T: FixedWidthInteger>(_ name: String, _ body: () -> T) throws -> T {
    while true {
        let r = SyscallSeam.active ? SyscallSeam.result(name, body) : body()
        if r >= 0 { return r }
        let e = Glibc.errno
        if e != EINTR { throw Errno(e, call: name) }
    }
}

/// Test seam: a queue of errnos to return, per call name, instead of making the call.
public enum SyscallSeam {
    @usableFromInline nonisolated(unsafe) static var active = false
    nonisolated(unsafe) private static var planned: [String: [Int32]] = [:]
    private static let lock = Lock()

    /// The next `name` calls fail with these errnos, in order (EINTR exercises the retry).
    public static func inject(_ name: String, _ errnos: [Int32]) {
        lock.withLock { planned[name, default: []] += errnos; active = true }
    }

    public static func reset() { lock.withLock { planned = [:]; active = false } }

    @usableFromInline static func result<T: FixedWidthInteger>(_ name: String, _ body: () -> T) -> T {
        let e: Int32? = lock.withLock {
            guard var q = planned[name], !q.isEmpty else { return nil }
            let first = q.removeFirst()
            planned[name] = q
            return first
        }
        guard let e else { return body() }
        Glibc.errno = e
        return -1
    }
}
