// The client's node model. A FUSE nodeid names one (parent nodeid, name) as last seen
// with one host identity (dev, ino, file type); the path sent to the server is the mount
// base plus the chain of names. Nodeids are never reused: a name that now holds a
// different file (recreated, or a reused /proc pid) gets a fresh nodeid.
import QtfsProtocol

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

    struct Key: Hashable { var parent: UInt64; var name: [UInt8] }
    struct Node {
        var parent: UInt64
        var name: [UInt8]
        var ident: NodeIdentity
        var lookups: UInt64
        var linked = true           // false once unlinked or replaced: no longer in `names`
        var pseudo: Bool
        var seen: DataStamp          // from the latest attributes
        var opened: DataStamp?       // at the latest open
    }

    private let lock = PMutex()
    private var nodes: [UInt64: Node] = [:]     // protected by lock
    private var names: [Key: UInt64] = [:]      // protected by lock
    private var nextId = firstDynamic           // protected by lock
    /// Files with more than one hard link, by identity: after one name is unlinked, the
    /// others' cached link counts are stale (each name is its own node).
    private var linkGroups: [NodeIdentity: Set<UInt64>] = [:]   // protected by lock
    public let base: [UInt8]

    public init(base: [UInt8], root: Attr) {
        self.base = base
        nodes[Self.rootId] = Node(parent: 0, name: [], ident: NodeIdentity(root), lookups: 1,
                                  pseudo: root.isPseudo, seen: DataStamp(root))
    }

    public var count: Int { lock.withLock { nodes.count } }

    /// Records a successful LOOKUP (or create) of `name` in `parent`: returns its nodeid
    /// and counts one lookup, as the kernel will.
    public func found(parent: UInt64, name: [UInt8], attr: Attr) -> UInt64 {
        let key = Key(parent: parent, name: name)
        let ident = NodeIdentity(attr)
        lock.lock(); defer { lock.unlock() }
        if let id = names[key] {
            if nodes[id]!.ident == ident {
                nodes[id]!.lookups += 1
                nodes[id]!.pseudo = attr.isPseudo
                nodes[id]!.seen = DataStamp(attr)
                noteLinksLocked(id, attr)
                return id
            }
            nodes[id]!.linked = false   // another file now holds the name
        }
        let id = nextId
        nextId += 1
        nodes[id] = Node(parent: parent, name: name, ident: ident, lookups: 1,
                         pseudo: attr.isPseudo, seen: DataStamp(attr))
        names[key] = id
        noteLinksLocked(id, attr)
        return id
    }

    private func noteLinksLocked(_ id: UInt64, _ a: Attr) {
        guard a.nlink > 1, a.mode & 0o170000 != 0o040000 else { return }
        linkGroups[NodeIdentity(a), default: []].insert(id)
    }

    private func dropFromLinkGroupLocked(_ id: UInt64, _ ident: NodeIdentity) {
        guard var group = linkGroups[ident] else { return }
        group.remove(id)
        linkGroups[ident] = group.isEmpty ? nil : group
    }

    /// The kernel dropped `n` references; the node goes when none remain.
    public func forget(_ id: UInt64, _ n: UInt64) {
        guard id >= Self.firstDynamic else { return }
        lock.lock(); defer { lock.unlock() }
        guard var node = nodes[id] else { return }
        node.lookups = node.lookups > n ? node.lookups - n : 0
        if node.lookups > 0 { nodes[id] = node; return }
        nodes[id] = nil
        dropFromLinkGroupLocked(id, node.ident)
        let key = Key(parent: node.parent, name: node.name)
        if node.linked, names[key] == id { names[key] = nil }
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
        var chain: [UInt64] = []
        var cur = id
        while cur != Self.rootId {
            guard let n = nodes[cur], chain.count < 4096 else { return nil }
            chain.append(cur)
            cur = n.parent
        }
        var out = base
        out.reserveCapacity(base.count + 64)
        for c in chain.reversed() { append(&out, nodes[c]!.name) }
        if let extra { append(&out, extra) }
        return out
    }

    private func append(_ out: inout [UInt8], _ name: [UInt8]) {
        if !out.isEmpty { out.append(UInt8(ascii: "/")) }
        out.append(contentsOf: name)
    }

    /// The directory and name a node was last seen under.
    public func place(of id: UInt64) -> (parent: UInt64, name: [UInt8])? {
        lock.withLock { nodes[id].map { ($0.parent, $0.name) } }
    }

    public func identity(_ id: UInt64) -> NodeIdentity? { lock.withLock { nodes[id]?.ident } }
    public func isPseudo(_ id: UInt64) -> Bool { lock.withLock { nodes[id]?.pseudo ?? false } }

    /// Fresh attributes for a node (getattr, setattr, write paths).
    public func noteAttr(_ id: UInt64, _ a: Attr) {
        lock.withLock {
            guard nodes[id] != nil else { return }
            nodes[id]!.seen = DataStamp(a)
            nodes[id]!.pseudo = a.isPseudo
            noteLinksLocked(id, a)
        }
    }

    /// At open: true if the file looks unchanged since the previous open (mtime, size),
    /// so the kernel may keep its cached pages.
    public func openedKeepsCache(_ id: UInt64) -> Bool {
        lock.withLock {
            guard let n = nodes[id] else { return false }
            nodes[id]!.opened = n.seen
            return n.opened == n.seen
        }
    }

    /// After UNLINK or RMDIR: the name no longer leads to that node. Returns the other
    /// known names of the same file, whose cached link count is now stale.
    @discardableResult
    public func removed(parent: UInt64, name: [UInt8]) -> [UInt64] {
        lock.withLock {
            let key = Key(parent: parent, name: name)
            guard let id = names[key], let ident = nodes[id]?.ident else { return [] }
            detachLocked(key)
            return linkGroups[ident].map { $0.filter { $0 != id } } ?? []
        }
    }

    private func detachLocked(_ key: Key) {
        guard let id = names.removeValue(forKey: key) else { return }
        nodes[id]?.linked = false
    }

    /// After RENAME: the moved node (and so its children) follows; with `exchange` the two
    /// names swap nodes, otherwise whatever held the new name is detached.
    public func renamed(_ p1: UInt64, _ n1: [UInt8], _ p2: UInt64, _ n2: [UInt8], exchange: Bool) {
        let k1 = Key(parent: p1, name: n1), k2 = Key(parent: p2, name: n2)
        lock.lock(); defer { lock.unlock() }
        let a = names.removeValue(forKey: k1)
        let b = names.removeValue(forKey: k2)
        if let b {
            if exchange { move(b, to: k1) } else { nodes[b]?.linked = false }
        }
        if let a { move(a, to: k2) }
    }

    private func move(_ id: UInt64, to key: Key) {
        guard nodes[id] != nil else { return }
        nodes[id]!.parent = key.parent
        nodes[id]!.name = key.name
        names[key] = id
    }
}
