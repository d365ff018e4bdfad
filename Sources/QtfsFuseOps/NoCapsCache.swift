// The kernel asks for "security.capability" before every write(2) to a file it has not
// marked S_NOSEC, and a FUSE mount never gets that mark: without this cache each write
// would cost a round trip to the host only to hear ENODATA. Files known to have no
// capability (just created here, or the host said so) answer locally for as long as
// attributes are cached. Stale at worst like a cached mode: the host's own write(2)
// still removes a capability set meanwhile, as it does for any write.
import QtfsClient

final class NoCapsCache: @unchecked Sendable {
    static let name: [UInt8] = Array("security.capability".utf8)
    /// Entries kept before the table is cleared: a bound, not a working-set estimate.
    private static let capacity = 65_536

    private let lifetime: Double
    private let lock = Lock()
    private var until: [UInt64: Double] = [:]   // ino → monotonic expiry

    /// nil when attributes are not cached (attr_timeout=0): then nothing may be cached here.
    init?(lifetime: Double) {
        guard lifetime > 0 else { return nil }
        self.lifetime = lifetime
    }

    /// True if `ino` is known to have no capability attribute.
    func knowsAbsent(_ ino: UInt64) -> Bool {
        let now = Clock.now()
        return lock.withLock {
            guard let t = until[ino] else { return false }
            if t > now { return true }
            until[ino] = nil
            return false
        }
    }

    func noteAbsent(_ ino: UInt64) {
        let t = Clock.now() + lifetime
        lock.withLock {
            if until.count >= Self.capacity { until.removeAll(keepingCapacity: true) }
            until[ino] = t
        }
    }

    /// Any xattr change made through this mount: ask the host again next time.
    func forget(_ ino: UInt64) { lock.withLock { until[ino] = nil } }
}
