// Proc mode: the files ps and top open in every process's directory (stat, status,
// cmdline) are looked up together. When the kernel asks for one of them in
// a pid directory, LOOKUPs of the others go out on the same connection just before it and
// are not waited for; their answers, read with the awaited one, wait here for the
// kernel's LOOKUPs that follow. A first scan of N processes then costs N round trips for
// these names instead of 3N (docs/client.md, "Proc mode").
//
// An answer is used once, by the same user, within `lifetime`, for the same parent node
// (node ids are never reused: a new process with an old pid is a new node): the kernel
// then keeps the name itself (CacheRules.pseudoNameLife). Only names are answered from here; the
// kernel's GETATTR, OPEN and READ of the file still go to the host, so a process that
// ended meanwhile fails there, as with any kept pseudo name.
import QtfsClient
import QtfsProtocol
import Synchronization
import QtfsSystem

final class PidFileNames: @unchecked Sendable {
    /// The names looked up together (procps' ps reads these three; top adds statm, which
    /// ps would pay for unread).
    static let names: [[UInt8]] = ["stat", "status", "cmdline"].map { Array($0.utf8) }
    /// Answers kept before the table is cleared: a bound on what lookups nobody used leave.
    private static let capacity = 4096
    /// Kernel LOOKUPs answered from here, over the mount's life (qtinfo --status).
    static let answered = Atomic<UInt64>(0)

    private struct Key: Hashable {
        let parent: UInt64
        let name: [UInt8]
        let uid: UInt32, gid: UInt32, groups: [UInt32]
    }

    private let lifetime: Double
    private let clock: () -> Double
    private let lock = Lock()
    private var kept: [Key: (attr: Attr, until: Double)] = [:]   // protected by lock

    /// nil when no name may be kept (entry_timeout=0).
    init?(lifetime: Double, clock: @escaping () -> Double = Clock.now) {
        guard lifetime > 0 else { return nil }
        self.lifetime = min(lifetime, 1)
        self.clock = clock
    }

    /// Whether `name` in `parent` is one of the names looked up together: the stat, status
    /// or cmdline of a pid directory (a number at the mount's root).
    static func applies(_ nodes: NodeTable, parent: UInt64, name: [UInt8]) -> Bool {
        names.contains(name) && nodes.places(of: parent).contains { place in
            place.parent == rootId && !place.name.isEmpty
                && place.name.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
    }
    static let rootId: UInt64 = 1   // FUSE_ROOT_ID

    /// The names to look up with `name` in `parent` for `c`: those not kept already.
    func siblings(of name: [UInt8], in parent: UInt64, for c: Caller) -> [[UInt8]] {
        let now = clock()
        return lock.withLock {
            Self.names.filter { $0 != name && !(kept[key(parent, $0, c)].map { $0.until > now } ?? false) }
        }
    }

    /// The host's answer for `name` in `parent`, kept for `c`; taken: it answers once.
    func take(_ name: [UInt8], in parent: UInt64, for c: Caller) -> Attr? {
        let now = clock()
        let hit: Attr? = lock.withLock {
            guard let e = kept.removeValue(forKey: key(parent, name, c)), e.until > now else { return nil }
            return e.attr
        }
        if hit != nil { Self.answered.add(1, ordering: .relaxed) }
        return hit
    }

    /// The host found `name` in `parent` for `c` (a LOOKUP sent ahead). Called on the
    /// thread that read the answer, with its connection's lock held: short, one leaf lock.
    func keep(_ name: [UInt8], in parent: UInt64, for c: Caller, _ a: Attr) {
        let until = clock() + lifetime
        lock.withLock {
            if kept.count >= Self.capacity { kept.removeAll(keepingCapacity: true) }
            kept[key(parent, name, c)] = (a, until)
        }
    }

    private func key(_ parent: UInt64, _ name: [UInt8], _ c: Caller) -> Key {
        Key(parent: parent, name: name, uid: c.uid, gid: c.gid, groups: c.groups)
    }
}
