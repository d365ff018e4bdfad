// With an attribute timeout of 0 (strict mounts, pseudo files), stat(2) of a name costs the
// kernel a LOOKUP and then, in the same system call, a GETATTR of the node it found. The
// LOOKUP's attributes answer that GETATTR: the host read them during this very call, so
// they are as fresh as a second round trip would be. Each is used at most once, within
// `window`, by the same user, and only if no request that may change something finished
// on this mount after the LOOKUP was sent (the epoch). docs/client.md, "Strict mounts".
import QtfsProtocol
import QtfsSystem
import Synchronization

final class LookupAttrs: @unchecked Sendable {
    /// How long after its LOOKUP a GETATTR may be answered: the kernel sends it at once
    /// (a test that must not depend on the scheduler widens it).
    var window = 0.001
    private struct Kept { let attr: Attr; let at: Double; let epoch: UInt64; let caller: Caller }
    private let lock = Lock()
    private var kept: [UInt64: Kept] = .preallocated()   // protected by lock
    private let changes = Atomic<UInt64>(0)

    /// Read before a LOOKUP is sent; handed back to `keep` with its answer.
    var epoch: UInt64 { changes.load(ordering: .acquiring) }

    /// A request that may have changed something (anything but a lookup or a read) was answered.
    func changed() { changes.add(1, ordering: .releasing) }

    /// Keeps the attributes a LOOKUP sent at `epoch` brought for node `id`.
    func keep(_ id: UInt64, _ a: Attr, epoch: UInt64, for c: Caller) {
        let k = Kept(attr: a, at: MonotonicClock.now(), epoch: epoch, caller: c)
        lock.withLock {
            if kept.count >= 4096 { kept.removeAll(keepingCapacity: true) }   // never consumed: stale anyway
            kept[id] = k
        }
    }

    /// The kept attributes of `id` if they may answer this GETATTR; used up either way.
    func take(_ id: UInt64, for c: Caller) -> Attr? {
        guard let k = lock.withLock({ kept.removeValue(forKey: id) }) else { return nil }
        guard k.epoch == epoch, MonotonicClock.now() - k.at < window,
              k.caller.uid == c.uid, k.caller.gid == c.gid, k.caller.groups == c.groups else { return nil }
        return k.attr
    }
}

extension FuseOp {
    /// Operations that change nothing on the host (a read's atime aside).
    var changesNothing: Bool {
        switch self {
        case .lookup, .forget, .forget_multi, .getattr, .readlink, .read, .lseek, .poll, .opendir, .readdir,
             .readdirplus, .releasedir, .statfs, .access, .getxattr, .listxattr: true
        default: false
        }
    }
}
