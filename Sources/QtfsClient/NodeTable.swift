// The client's node model. A FUSE nodeid is one kernel inode. Ordinary non-directory files
// are keyed by their host identity (dev, ino, type), as NFS file handles and libfuse's
// passthrough_ll key theirs: all hard links of a host file are one nodeid, so a chmod,
// write or link through one name is seen at once through the others. Directories (which
// cannot have hard links, but a bind mount can show one at two places) and pseudo files
// (/proc reuses inode numbers) are keyed by (parent nodeid, name).
//
// The path sent to the server is the mount base plus the chain of names. A node with
// several names uses the one it was last looked up by; when that name is unlinked or its
// directory forgotten, another known name takes over. Nodeids are never reused: a name
// that now holds a different file (recreated, or a reused /proc pid) gets a fresh nodeid.
import QtfsProtocol
import QtfsSystem

public struct NodeIdentity: Hashable, Sendable {
    public var dev: UInt64
    public var ino: UInt64
    public var type: UInt32
    public init(_ a: Attr) { dev = a.dev; ino = a.ino; type = a.mode & 0o170000 }
}

/// What decides whether cached file data is still valid at the next open.
struct DataStamp: Equatable {
    var mtime: Timespec
    var size: UInt64
    init(_ a: Attr) { mtime = a.mtime; size = a.size }
}

public final class NodeTable: @unchecked Sendable {
    public static let rootId: UInt64 = 1
    /// Ids 2..<firstDynamic are reserved for synthetic nodes (proc mode).
    public static let firstDynamic: UInt64 = 16

    public struct Place: Hashable, Sendable {
        public var parent: UInt64
        public var name: [UInt8]
    }
    struct Node {
        var place: Place             // the name paths go through: the latest looked up
        var names: [Place]           // every name of it this table knows (in `byPlace`)
        var ident: NodeIdentity
        var lookups: UInt64
        var pseudo: Bool
        var setId = false            // setuid or setgid in the latest attributes
        var seen: DataStamp          // from the latest attributes
        var opened: DataStamp?       // at the latest open
    }

    private let lock = Lock()
    private var nodes: [UInt64: Node] = .preallocated()                // protected by lock
    private var byPlace: [Place: UInt64] = .preallocated()             // protected by lock
    private var byIdentity: [NodeIdentity: UInt64] = .preallocated()   // protected by lock
    private var nextId = firstDynamic                                  // protected by lock
    public let base: [UInt8]

    public init(base: [UInt8], root: Attr) {
        self.base = base
        let top = Place(parent: 0, name: [])
        nodes[Self.rootId] = Node(place: top, names: [], ident: NodeIdentity(root), lookups: 1,
                                  pseudo: root.isPseudo, seen: DataStamp(root))
    }

    public var count: Int { lock.withLock { nodes.count } }

    /// Whether a file is keyed by its host identity (see the header).
    static func keyedByIdentity(_ a: Attr) -> Bool {
        a.mode & 0o170000 != 0o040000 && !a.isPseudo
    }

    /// Records a successful LOOKUP (or create, link, readdirplus entry) of `name` in
    /// `parent`: returns its nodeid and counts one lookup, as the kernel will.
    public func found(parent: UInt64, name: [UInt8], attr: Attr) -> UInt64 {
        let place = Place(parent: parent, name: name)
        let ident = NodeIdentity(attr)
        lock.lock(); defer { lock.unlock() }
        if let id = byPlace[place] {
            if nodes[id]!.ident == ident {
                countLookupLocked(id, place, attr)
                return id
            }
            unlinkLocked(place)   // another file now holds the name
        }
        if Self.keyedByIdentity(attr), let id = byIdentity[ident] {   // another name of a known file
            byPlace[place] = id
            nodes[id]!.names.append(place)
            countLookupLocked(id, place, attr)
            return id
        }
        let id = nextId
        nextId += 1
        nodes[id] = Node(place: place, names: [place], ident: ident, lookups: 1,
                         pseudo: attr.isPseudo, seen: DataStamp(attr))
        noteAttrLocked(id, attr)
        byPlace[place] = id
        if Self.keyedByIdentity(attr) { byIdentity[ident] = id }
        return id
    }

    private func countLookupLocked(_ id: UInt64, _ place: Place, _ a: Attr) {
        nodes[id]!.lookups += 1
        nodes[id]!.place = place
        noteAttrLocked(id, a)
    }

    /// The kernel dropped `n` references; the node goes when none remain.
    public func forget(_ id: UInt64, _ n: UInt64) {
        guard id >= Self.firstDynamic else { return }
        lock.lock(); defer { lock.unlock() }
        guard var node = nodes[id] else { return }
        node.lookups = node.lookups > n ? node.lookups - n : 0
        if node.lookups > 0 { nodes[id] = node; return }
        nodes[id] = nil
        for p in node.names where byPlace[p] == id { byPlace[p] = nil }
        if byIdentity[node.ident] == id { byIdentity[node.ident] = nil }
    }

    /// The export-relative path of a node, or nil if it is unknown.
    public func path(_ id: UInt64) -> [UInt8]? {
        lock.lock(); defer { lock.unlock() }
        return pathLocked(id, extra: nil)
    }

    /// The path of `name` inside directory `parent`.
    public func path(_ parent: UInt64, _ name: [UInt8]) -> [UInt8]? {
        lock.lock(); defer { lock.unlock() }
        return pathLocked(parent, extra: name)
    }

    private func pathLocked(_ id: UInt64, extra: [UInt8]?) -> [UInt8]? {
        var chain: [[UInt8]] = []
        var cur = id
        while cur != Self.rootId {
            guard let n = nodes[cur], chain.count < 4096 else { return nil }
            let p = reachablePlaceLocked(n)
            chain.append(p.name)
            cur = p.parent
        }
        var out = base
        out.reserveCapacity(base.count + 64)
        for name in chain.reversed() { append(&out, name) }
        if let extra { append(&out, extra) }
        return out
    }

    /// The node's place, or, when the kernel forgot that name's directory (it keeps a
    /// file's inode while any one of its names is cached), another name whose directory
    /// it still holds.
    private func reachablePlaceLocked(_ n: Node) -> Place {
        if n.names.count < 2 || nodes[n.place.parent] != nil { return n.place }
        return n.names.last { nodes[$0.parent] != nil } ?? n.place
    }

    private func append(_ out: inout [UInt8], _ name: [UInt8]) {
        if !out.isEmpty { out.append(UInt8(ascii: "/")) }
        out.append(contentsOf: name)
    }

    /// Every name of a node this table knows (its last place if none is left).
    public func places(of id: UInt64) -> [Place] {
        lock.withLock {
            guard let n = nodes[id] else { return [] }
            return n.names.isEmpty ? [n.place] : n.names
        }
    }

    public func identity(_ id: UInt64) -> NodeIdentity? { lock.withLock { nodes[id]?.ident } }
    public func isPseudo(_ id: UInt64) -> Bool { lock.withLock { nodes[id]?.pseudo ?? false } }

    /// Fresh attributes for a node (getattr, setattr, write paths).
    public func noteAttr(_ id: UInt64, _ a: Attr) {
        lock.withLock {
            guard nodes[id] != nil else { return }
            noteAttrLocked(id, a)
        }
    }

    private func noteAttrLocked(_ id: UInt64, _ a: Attr) {
        nodes[id]!.seen = DataStamp(a)
        nodes[id]!.pseudo = a.isPseudo
        nodes[id]!.setId = a.mode & 0o6000 != 0
    }

    /// The size in the node's latest attributes (0 for a node this table does not know).
    public func lastSize(_ id: UInt64) -> UInt64 { lock.withLock { nodes[id]?.seen.size ?? 0 } }

    /// Whether the file had setuid or setgid bits when last seen: a write by another user
    /// makes the host clear them, which the kernel's cached mode does not show.
    public func hadSetId(_ id: UInt64) -> Bool { lock.withLock { nodes[id]?.setId ?? false } }

    /// At open: true if the file looks unchanged since the previous open (mtime, size),
    /// so the kernel may keep its cached pages.
    public func openedKeepsCache(_ id: UInt64) -> Bool {
        lock.withLock {
            guard let n = nodes[id] else { return false }
            nodes[id]!.opened = n.seen
            return n.opened == n.seen
        }
    }

    /// After UNLINK or RMDIR: the name no longer leads to its node. A node with other
    /// names goes on through one of them; one without keeps its path for open handles.
    /// Returns the other known names (hard links), whose link count just dropped.
    @discardableResult
    public func removed(parent: UInt64, name: [UInt8]) -> [Place] {
        lock.withLock { unlinkLocked(Place(parent: parent, name: name)) }
    }

    @discardableResult
    private func unlinkLocked(_ place: Place) -> [Place] {
        guard let id = byPlace.removeValue(forKey: place), var n = nodes[id] else { return [] }
        n.names.removeAll { $0 == place }
        if n.place == place, let other = n.names.last { n.place = other }
        nodes[id] = n
        return n.names
    }

    /// After RENAME: the moved node (and so its children) follows; with `exchange` the two
    /// names swap nodes, otherwise whatever held the new name loses it. Renaming one hard
    /// link of a file onto another does nothing (rename(2)).
    public func renamed(_ p1: UInt64, _ n1: [UInt8], _ p2: UInt64, _ n2: [UInt8], exchange: Bool) {
        let from = Place(parent: p1, name: n1), to = Place(parent: p2, name: n2)
        lock.lock(); defer { lock.unlock() }
        let a = byPlace[from], b = byPlace[to]
        if a != nil && a == b { return }
        byPlace[from] = nil
        if let b {
            if exchange { moveLocked(b, from: to, to: from) } else { unlinkLocked(to) }
        }
        if let a { moveLocked(a, from: from, to: to) }
    }

    private func moveLocked(_ id: UInt64, from: Place, to: Place) {
        guard var n = nodes[id] else { return }
        if let i = n.names.firstIndex(of: from) { n.names[i] = to } else { n.names.append(to) }
        if n.place == from { n.place = to }
        nodes[id] = n
        byPlace[to] = id
    }
}
