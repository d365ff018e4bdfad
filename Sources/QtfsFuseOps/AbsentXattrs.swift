// Extended attributes a file is known not to have, answered ENODATA without a round trip.
// Two callers ask files for the same few names, over and over: the kernel reads
// security.capability before the first write(2) to each file (before every one when the
// kernel did not take FUSE_HANDLE_KILLPRIV_V2, so the mount lacks SB_NOSEC), and `ls -l`
// asks each file it lists for security.selinux and system.posix_acl_access (its "." and "+"
// marks). A name the host said a file lacks, or the capability of a file this client just
// created, answers locally for as long as attributes are cached. Stale at worst like a
// cached mode: a label or ACL set on the host shows within the attribute timeout, and a
// capability set meanwhile is removed by the host's own write(2) anyway. An xattr change
// through this mount forgets the file.
//
// Besides: the capability of a file this client created stays absent while the handle of
// that CREATE is open (NodeOpens.createdOpen), whatever the attribute timeout: the
// kernel's question before the first write is the only one such a file gets in practice,
// and a capability set on the host in between is removed by that write on the host.
import QtfsClient

final class AbsentXattrs: @unchecked Sendable {
    static let capability: [UInt8] = Array("security.capability".utf8)
    /// The names remembered; any other is always asked.
    static let names: [[UInt8]] = [capability, Array("security.selinux".utf8),
                                   Array("system.posix_acl_access".utf8), Array("system.posix_acl_default".utf8)]
    /// Entries kept before the table is cleared: a bound, not a working-set estimate.
    private static let capacity = 65_536

    private struct Key: Hashable { let ino: UInt64; let name: Int }

    private let lifetime: Double
    private let lock = Lock()
    private var until: [Key: Double] = .preallocated()   // monotonic expiry

    /// nil when attributes are not cached (attr_timeout=0): then nothing may be cached here.
    init?(lifetime: Double) {
        guard lifetime > 0 else { return nil }
        self.lifetime = lifetime
    }

    /// True if `ino` is known to have no attribute `name` (always false for other names).
    func knowsAbsent(_ ino: UInt64, _ name: [UInt8]) -> Bool {
        guard let n = Self.names.firstIndex(of: name) else { return false }
        let now = Clock.now()
        return lock.withLock {
            guard let t = until[Key(ino: ino, name: n)] else { return false }
            if t > now { return true }
            until[Key(ino: ino, name: n)] = nil
            return false
        }
    }

    /// The host said `ino` has no `name` (or the file is new here): remembered if it is one
    /// of `names`.
    func noteAbsent(_ ino: UInt64, _ name: [UInt8]) {
        guard let n = Self.names.firstIndex(of: name) else { return }
        let t = Clock.now() + lifetime
        lock.withLock {
            if until.count >= Self.capacity { until.removeAll(keepingCapacity: true) }
            until[Key(ino: ino, name: n)] = t
        }
    }

    /// Any xattr change made through this mount: ask the host again next time.
    func forget(_ ino: UInt64) {
        lock.withLock { for n in Self.names.indices { until[Key(ino: ino, name: n)] = nil } }
    }
}
