// Answers to LOOKUPs sent ahead (Session.lookup(ahead:)), waiting for the kernel's LOOKUPs
// of the same names: each used once, for the same key (which names the caller too),
// within `lifetime`. PidFileNames and WalkAhead keep theirs here.
import QtfsClient
import Synchronization
import QtfsSystem

/// Kernel LOOKUPs answered from lookups sent ahead, over the mount's life (qtinfo --status).
let lookupsAnsweredAhead = Atomic<UInt64>(0)

final class AheadAnswers<Key: Hashable, Value>: @unchecked Sendable {
    /// Answers kept before the table is cleared: a bound on what lookups nobody used leave.
    static var capacity: Int { 4096 }

    private let lifetime: Double
    private let clock: () -> Double
    private let lock = Lock()
    private var kept: [Key: (value: Value, until: Double)] = .preallocated()   // protected by lock

    init(lifetime: Double, clock: @escaping () -> Double) {
        self.lifetime = lifetime
        self.clock = clock
    }

    /// The host's answer for `key`. Called on the thread that read it, with its
    /// connection's lock held: short, one leaf lock.
    func keep(_ key: Key, _ value: Value) {
        let until = clock() + lifetime
        lock.withLock {
            if kept.count >= Self.capacity { kept.removeAll(keepingCapacity: true) }
            kept[key] = (value, until)
        }
    }

    /// The answer kept for `key` within the lifetime; taken: it answers once.
    func take(_ key: Key) -> Value? {
        let now = clock()
        let hit: Value? = lock.withLock {
            guard let e = kept.removeValue(forKey: key), e.until > now else { return nil }
            return e.value
        }
        if hit != nil { lookupsAnsweredAhead.add(1, ordering: .relaxed) }
        return hit
    }

    /// Whether an answer for `key` is kept and still within the lifetime.
    func has(_ key: Key) -> Bool {
        let now = clock()
        return lock.withLock { kept[key].map { $0.until > now } ?? false }
    }
}
