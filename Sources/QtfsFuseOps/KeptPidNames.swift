// Proc mode: host pid directories at the mount's root that the host confirmed within the
// time any other pseudo name is kept (CacheRules.pseudoNameLife). The kernel may not keep
// these names itself (CacheRules.askerDependent: for the DPU process with that pid the
// name is its own link), so it sends a LOOKUP on every path walk through one; the client
// answers it for the host meanwhile, as the kernel's dentry cache would have for any
// other name. Only found names are kept, so a
// new pid is asked for; a vanished one still fails at the next GETATTR, OPEN or OPENDIR,
// which the host answers (docs/client.md, "Pseudo file systems: what is cached").
import CFuse
import QtfsClient
import QtfsProtocol
import QtfsSystem

final class KeptPidNames: @unchecked Sendable {
    /// Entries kept before the table is cleared: a bound (pid_max is 4M at most).
    private static let capacity = 65_536

    private let lifetime: Double
    private let clock: () -> Double
    private let lock = Lock()
    private var found: [[UInt8]: (attr: Attr, until: Double)] = .preallocated()   // protected by lock

    /// nil when names are not kept at all (entry_timeout=0).
    init?(lifetime: Double, clock: @escaping () -> Double = Clock.now) {
        guard lifetime > 0 else { return nil }
        self.lifetime = lifetime
        self.clock = clock
    }

    /// The attributes the host gave `name` if it did so within the lifetime.
    func attr(_ name: [UInt8]) -> Attr? {
        let now = clock()
        return lock.withLock {
            guard let e = found[name] else { return nil }
            if e.until > now { return e.attr }
            found[name] = nil
            return nil
        }
    }

    /// The host just found `name` (LOOKUP, or a READDIRPLUS entry).
    func note(_ name: [UInt8], _ a: Attr) {
        let until = clock() + lifetime
        lock.withLock {
            if found.count >= Self.capacity { found.removeAll(keepingCapacity: true) }
            found[name] = (a, until)
        }
    }

    /// The host said `name` is gone: ask it again next time.
    func forget(_ name: [UInt8]) { _ = lock.withLock { found.removeValue(forKey: name) } }

    /// The attributes the host gave `name` in `parent` within the lifetime, if the answer
    /// for that name depends on who asks (CacheRules.askerDependent); nil: ask the host.
    func attr(_ rules: CacheRules, parent: fuse_ino_t, name: [UInt8]) -> Attr? {
        rules.askerDependent(parent: UInt64(parent), name: name) ? attr(name) : nil
    }

    /// What the host said of `name` in `parent` (nil: absent), kept when the kernel may not
    /// keep it itself because the answer depends on the asker.
    func note(_ rules: CacheRules, parent: fuse_ino_t, name: [UInt8], _ a: Attr?) {
        guard rules.askerDependent(parent: UInt64(parent), name: name) else { return }
        if let a { note(name, a) } else { forget(name) }
    }
}
