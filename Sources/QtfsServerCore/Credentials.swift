// Acting as the caller: each worker switches its own thread's fsuid/fsgid/groups
// (raw syscalls in CQtfsSys, so other threads keep theirs) around one operation.
import Glibc
internal import CQtfsSys
import QtfsProtocol

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
        var uid = c.uid, gid = c.gid, groups = c.groups
        if squash && uid == 0 {
            uid = nobody; gid = nobody
            groups.removeAll { $0 == 0 }
        }
        let r = groups.withUnsafeBufferPointer {
            qtfs_become_cached(uid, gid, $0.baseAddress, Int32($0.count))
        }
        guard r == 0 else { throw FsError(EPERM) }
        return try body()
    }

    /// The server's own (root) credentials, for operations on handles.
    static func asServer() throws {
        guard canSwitch else { return }
        guard qtfs_become_root_cached() == 0 else { throw FsError(EPERM) }
    }
}
