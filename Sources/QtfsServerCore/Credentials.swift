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
    static func asCaller<T>(_ c: Caller, squash: Bool, _ body: () throws -> T) throws -> T {
        guard canSwitch else { return try body() }
        var uid = c.uid, gid = c.gid, groups = c.groups
        if squash && uid == 0 {
            uid = nobody; gid = nobody
            groups.removeAll { $0 == 0 }
        }
        let r = groups.withUnsafeBufferPointer {
            qtfs_become(uid, gid, $0.baseAddress, Int32($0.count))
        }
        defer { qtfs_become_root() }
        guard r == 0 else { throw FsError(EPERM) }
        return try body()
    }
}
