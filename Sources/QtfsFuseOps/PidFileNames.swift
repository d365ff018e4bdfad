// Proc mode: the files ps and top open in every process's directory (stat, status,
// cmdline) are looked up together. When the kernel asks for one of them in a pid
// directory, LOOKUPs of the others go out on the same connection just before it and are
// not waited for; their answers, read with the awaited one, wait here for the kernel's
// LOOKUPs that follow. A first scan of N processes then costs N round trips for these
// names instead of 3N (docs/client.md, "Proc mode").
//
// An answer (AheadAnswers) is used once, by the same user, within `lifetime`, for the same
// parent node (node ids are never reused: a new process with an old pid is a new node):
// the kernel then keeps the name itself (CacheRules.pseudoNameLife). Only names are
// answered from here; the kernel's GETATTR, OPEN and READ of the file still go to the
// host, so a process that ended meanwhile fails there, as with any kept pseudo name.
import CFuse
import QtfsClient
import QtfsProtocol
import QtfsSystem

final class PidFileNames: @unchecked Sendable {
    /// The names looked up together (procps' ps reads these three; top adds statm, which
    /// ps would pay for unread).
    static let names: [[UInt8]] = ["stat", "status", "cmdline"].map { Array($0.utf8) }

    private struct Key: Hashable {
        let parent: UInt64
        let name: [UInt8]
        let uid: UInt32, gid: UInt32, groups: [UInt32]
    }

    private let answers: AheadAnswers<Key, Attr>

    /// nil when no name may be kept (entry_timeout=0).
    init?(lifetime: Double, clock: @escaping () -> Double = Clock.now) {
        guard lifetime > 0 else { return nil }
        answers = AheadAnswers(lifetime: min(lifetime, 1), clock: clock)
    }

    /// Whether `name` in `parent` is one of the names looked up together: the stat, status
    /// or cmdline of a pid directory (a number at the mount's root).
    static func applies(_ nodes: NodeTable, parent: UInt64, name: [UInt8]) -> Bool {
        names.contains(name) && nodes.places(of: parent).contains { place in
            place.parent == UInt64(FUSE_ROOT_ID) && !place.name.isEmpty
                && place.name.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
    }

    /// The names to look up with `name` in `parent` for `c`: those not kept already.
    func siblings(of name: [UInt8], in parent: UInt64, for c: Caller) -> [[UInt8]] {
        Self.names.filter { $0 != name && !answers.has(key(parent, $0, c)) }
    }

    /// The host's answer for `name` in `parent`, kept for `c`; taken: it answers once.
    func take(_ name: [UInt8], in parent: UInt64, for c: Caller) -> Attr? { answers.take(key(parent, name, c)) }

    /// The host found `name` in `parent` for `c` (a LOOKUP sent ahead; AheadAnswers.keep).
    func keep(_ name: [UInt8], in parent: UInt64, for c: Caller, _ a: Attr) { answers.keep(key(parent, name, c), a) }

    private func key(_ parent: UInt64, _ name: [UInt8], _ c: Caller) -> Key {
        Key(parent: parent, name: name, uid: c.uid, gid: c.gid, groups: c.groups)
    }
}
