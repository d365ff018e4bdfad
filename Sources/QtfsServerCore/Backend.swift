// What every handler shares: the exports, the pseudo-fs cache, and the one helper that
// turns (caller, target) into a resolved location while acting as the caller.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

final class Backend: FileBackend, @unchecked Sendable {
    let exports: Exports
    let pseudo = PseudoCache()
    /// nil: every operation allowed (no whitelist configured).
    let whitelist: Whitelist?

    init(exports: Exports, whitelist: Whitelist? = nil) { self.exports = exports; self.whitelist = whitelist }

    /// Looks up the export, refuses writes to a read-only one, switches to the caller's
    /// credentials, resolves the path beneath the export and checks the whitelist `gate`
    /// on the resolved location, then runs `body`.
    func at<T>(_ caller: Caller, _ target: Target, write: Bool = false, gate: [Whitelist.Kind] = [],
               _ body: (Export, borrowing Resolved) throws -> T) throws -> T {
        let e = try exports.get(target.export)
        if write && e.readOnly { throw Errno(EROFS) }
        return try Credentials.asCaller(caller, squash: e.rootSquash) {
            let r = try PathCheck.resolve(e, target.path)
            try require(gate, r, target.path)
            return try body(e, r)
        }
    }

    /// EACCES (logged) unless every kind in `gate` allows the resolved location; `path`
    /// (export-relative) is for the log line only.
    func require(_ gate: [Whitelist.Kind], _ r: borrowing Resolved, _ path: [UInt8]) throws {
        guard let whitelist else { return }
        for kind in gate where !r.withName({ whitelist.allows(kind, dir: r.dir, name: $0) }) {
            throw whitelist.denied(kind, path)
        }
    }

    /// Attributes of a resolved location (used after every create-like call).
    func attr(_ r: borrowing Resolved) throws -> Attr {
        try r.withName { try pseudo.attr(r.dir, $0) }
    }

    /// An O_PATH fd on the last component itself, not following a symlink.
    func openPath(_ r: borrowing Resolved) throws -> Int32 {
        try r.withName { n in try sys("openat") { openat(r.dir, n, O_PATH | O_NOFOLLOW | O_CLOEXEC) } }
    }
}

extension Array where Element == UInt8 {
    /// NUL-terminated copy for C calls.
    @discardableResult
    func withCStr<T>(_ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        try withCString(self[...], body)
    }
}
