// The files of each node this client has open (regular files, from OPEN and CREATE), and
// of those the ones its CREATE made. Two rules read it: PageStore (a node with no other
// open file may have its pages stored with an open) and the created file's capability
// (AbsentXattrs.swift: absent while the CREATE handle is open).
import QtfsClient
import QtfsSystem

final class NodeOpens: @unchecked Sendable {
    private struct Count {
        var all = 0
        /// Open CREATE handles, while no xattr change was made through the mount.
        var created = 0
    }
    private let lock = Lock()
    private var counts: [UInt64: Count] = .preallocated()

    /// An open of `ino` begins (`created`: by CREATE); true when no other open file of it exists.
    func begin(_ ino: UInt64, created: Bool = false) -> Bool {
        lock.withLock {
            counts[ino, default: Count()].all += 1
            if created { counts[ino]!.created += 1 }
            return counts[ino]!.all == 1
        }
    }

    /// The open failed, or its file was released.
    func end(_ ino: UInt64, created: Bool = false) {
        lock.withLock {
            guard var c = counts[ino] else { return }
            c.all -= 1
            if created { c.created = max(0, c.created - 1) }
            counts[ino] = c.all > 0 ? c : nil
        }
    }

    /// True while `ino` has exactly one open file (the caller's own).
    func alone(_ ino: UInt64) -> Bool { lock.withLock { counts[ino]?.all == 1 } }

    /// True while a CREATE handle of `ino` is open and no xattr change was made since.
    func createdOpen(_ ino: UInt64) -> Bool { lock.withLock { (counts[ino]?.created ?? 0) > 0 } }

    /// An xattr change through this mount: the created file is asked about again.
    func forgetCreated(_ ino: UInt64) { lock.withLock { counts[ino]?.created = 0 } }
}
