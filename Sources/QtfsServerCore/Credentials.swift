// Acting as the caller: each worker switches its own thread's fsuid/fsgid/groups
// (raw syscalls in CQtfsSys, so other threads keep theirs) around one operation.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

enum Credentials {
    static let nobody: UInt32 = 65534
    /// Switching needs root; a server started as another user acts as itself.
    static let canSwitch = geteuid() == 0

    /// Runs `body` with the caller's file-system credentials, squashing root if asked.
    ///
    /// Invariant: a worker thread keeps the identity of its last operation (switching
    /// back to root after each one measured ~30 µs per request here), so every operation
    /// sets the identity it needs first: this for requests with a caller, `asServer` for
    /// handle operations.
    static func asCaller<T>(_ c: Caller, squash: Bool, _ body: () throws -> T) throws -> T {
        guard canSwitch else { return try body() }
        let who = acting(c, squash: squash)
        let r = who.groups.withUnsafeBufferPointer {
            qtfs_become_cached(who.uid, who.gid, $0.baseAddress, Int32($0.count))
        }
        guard r == 0 else { throw Errno(EPERM) }
        return try body()
    }

    /// Who the caller acts as on the host: root squashed to nobody if asked.
    static func acting(_ c: Caller, squash: Bool) -> Caller {
        guard squash && c.uid == 0 else { return c }
        var who = c
        who.uid = nobody; who.gid = nobody
        who.groups.removeAll { $0 == 0 }
        return who
    }

    /// Whether the caller acts with CAP_FSETID on the host (root, not squashed, and a
    /// server that switches identities; a server running as a user has no capabilities).
    static func hasFsetid(_ c: Caller, squash: Bool) -> Bool {
        canSwitch && acting(c, squash: squash).uid == 0
    }

    /// The server's own (root) credentials, for operations on handles.
    static func asServer() throws {
        guard canSwitch else { return }
        guard qtfs_become_root_cached() == 0 else { throw Errno(EPERM) }
    }
}
