// What every handler shares: the exports, the pseudo-fs cache, and the one helper that
// turns (caller, target) into a resolved location while acting as the caller.
import Glibc
internal import CQtfsSys
import QtfsProtocol

final class Backend: @unchecked Sendable {
    let exports: Exports
    let pseudo = PseudoCache()

    init(exports: Exports) { self.exports = exports }

    /// Looks up the export, refuses writes to a read-only one, switches to the caller's
    /// credentials and resolves the path beneath the export, then runs `body`.
    func at<T>(_ caller: Caller, _ target: Target, write: Bool = false,
               _ body: (Export, borrowing Resolved) throws -> T) throws -> T {
        let e = try exports.get(target.export)
        if write && e.readOnly { throw FsError(EROFS) }
        return try Credentials.asCaller(caller, squash: e.rootSquash) {
            let r = try PathCheck.resolve(e, target.path)
            return try body(e, r)
        }
    }

    /// Attributes of a resolved location (used after every create-like call).
    func attr(_ r: borrowing Resolved) throws -> Attr {
        try r.withName { try pseudo.attr(r.dir, $0) }
    }

    /// An O_PATH fd on the last component itself, not following a symlink.
    func openPath(_ r: borrowing Resolved) throws -> Int32 {
        try r.withName { n in try sys { openat(r.dir, n, O_PATH | O_NOFOLLOW | O_CLOEXEC) } }
    }
}

extension Array where Element == UInt8 {
    /// NUL-terminated copy for C calls.
    @discardableResult
    func withCStr<T>(_ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        try withCString(self[...], body)
    }
}
