// Directory attribute prefetch for uncached LOOKUPs (like NFS's readdirplus heuristics and
// sshfs's cache): when a directory sees a second LOOKUP miss within `lifetime`, its whole
// listing with attributes is fetched once (READDIR plus) and later LOOKUPs in it are
// answered from that snapshot while it is younger than `lifetime`. Changes this client makes
// are applied to the snapshot name by name (a created name is added, an unlinked one removed,
// one whose attributes changed becomes unknown), so a create or unlink loop never refetches;
// made while a listing is still being read, they are replayed onto it. A big directory is
// read in the background (Session.prefetch); one over `maxEntries`, by its size or by
// reading it, is left alone.
#if canImport(Glibc)
import Glibc
#endif
import QtfsProtocol
import Synchronization
import QtfsSystem

public final class DirPrefetch: @unchecked Sendable {
    /// What a snapshot says about a name.
    public enum Answer: Equatable { case found(Attr), absent, unknown }

    /// What a fetch of a directory's listing brought.
    public enum Listing { case entries([DirEntry]), tooBig, failed }

    /// How long a directory found over `maxEntries` is not fetched again: reading one costs
    /// the host a stat per entry (about 0.1 s for 65,536), for nothing.
    public static let tooBigPause = 60.0

    /// The fewest bytes an entry adds to a directory's size as Linux file systems report it
    /// (tmpfs counts exactly 20, ext4 and xfs 12 or more, usually more than 20; /proc and
    /// /sys say 0). A directory whose size says it holds over `maxEntries` is not listed at
    /// all: finding that out by reading costs the host a stat per entry.
    public static let bytesPerEntry: UInt64 = 20

    /// Listings read on in the background at once, at most (`Session.prefetch`).
    public static let maxBackground = 4
    private let background = Atomic<Int>(0)

    /// A background listing may start (false: as many as `maxBackground` are running).
    public func takeBackgroundSlot() -> Bool {
        if background.add(1, ordering: .acquiringAndReleasing).newValue <= Self.maxBackground { return true }
        background.subtract(1, ordering: .releasing)
        return false
    }

    public func giveBackgroundSlot() { background.subtract(1, ordering: .releasing) }

    struct Dir {
        var firstMiss: Double?            // time of the miss that started the count
        var misses = 0
        var snapshot: [[UInt8]: Attr?]?   // nil attr: listed but not statable (ask the server)
        var fetchedAt = 0.0
        var owner: Caller?                // credentials the snapshot was read with
        /// Bumped when the directory itself changes: a fetch racing that is dropped.
        var generation: UInt64 = 0
        var fetching = false
        /// This client's changes made while the listing was being read, by name: replayed
        /// onto it when it is installed (a chunk read before a change does not show it).
        var notedWhileFetching: [[UInt8]: Answer] = [:]
        /// No fetch before this time: the directory was found over maxEntries (for
        /// `tooBigPause`), or a change made here that cannot be replayed name by name cut
        /// its fetch short (for `lifetime`).
        var noFetchUntil = 0.0
    }

    public let lifetime: Double
    public let maxEntries: Int
    private let lock = Lock()
    private var dirs: [UInt64: Dir] = [:]   // protected by lock
    /// Directories with state: lets hot paths (write) skip the lock when nothing is cached.
    private let active = Atomic<Int>(0)
    private let now: () -> Double

    public init(lifetime: Double, maxEntries: Int = 65536, clock: @escaping () -> Double = MonotonicClock.now) {
        self.lifetime = lifetime; self.maxEntries = maxEntries; now = clock
    }

    /// The snapshot's answer for `name` in `dir`, for a caller with these credentials.
    public func answer(_ dir: UInt64, _ name: [UInt8], _ c: Caller) -> Answer { lookup(dir, name, c).answer }

    /// The answer and how much longer the snapshot is valid: the kernel may cache the
    /// answer only that long, so a host change is seen within `lifetime` of being made
    /// (not `lifetime` plus the kernel's own entry or attribute timeout).
    public func lookup(_ dir: UInt64, _ name: [UInt8], _ c: Caller) -> (answer: Answer, life: Double) {
        lock.withLock {
            guard let d = dirs[dir], let snap = d.snapshot, let o = d.owner, Self.sameCreds(o, c) else { return (.unknown, 0) }
            let life = lifetime - (now() - d.fetchedAt)
            guard life > 0 else { dropLocked(dir); return (.unknown, 0) }
            guard let entry = snap[name] else { return (.absent, life) }
            // A listed pseudo file (a /proc or /sys mount point under /) is found like any
            // name; the kernel is told not to keep its attributes (docs/client.md).
            guard let a = entry else { return (.unknown, 0) }
            return (.found(a), life)
        }
    }

    /// A snapshot read as one user must not answer another (permissions differ); pid may.
    static func sameCreds(_ a: Caller, _ b: Caller) -> Bool {
        a.uid == b.uid && a.gid == b.gid && a.groups == b.groups
    }

    /// Records a miss; returns a generation to pass to `install` when this miss should
    /// fetch the directory (the second miss within `lifetime`), nil otherwise. `dirSize`:
    /// the directory's size in its latest attributes (0 when unknown).
    public func miss(_ dir: UInt64, dirSize: UInt64 = 0) -> UInt64? {
        if dirSize / Self.bytesPerEntry > UInt64(maxEntries) { return nil }
        return lock.withLock {
            let t = now()
            if dirs[dir] == nil {
                if dirs.count >= 4096 { pruneLocked(t) }
                active.add(1, ordering: .relaxed)
            }
            var d = dirs[dir] ?? Dir()
            if let first = d.firstMiss, t - first < lifetime { d.misses += 1 } else { d.firstMiss = t; d.misses = 1 }
            let fetch = d.misses >= 2 && !d.fetching && d.snapshot == nil && t >= d.noFetchUntil
            if fetch { d.fetching = true }
            dirs[dir] = d
            return fetch ? d.generation : nil
        }
    }

    /// Stores a fetched listing, unless the directory changed since `generation` was
    /// handed out. A directory too big is left alone for `tooBigPause`.
    public func install(_ dir: UInt64, generation: UInt64, _ listing: Listing, owner: Caller) {
        lock.withLock {
            guard var d = dirs[dir], d.generation == generation else { return }
            d.fetching = false
            d.misses = 0
            d.firstMiss = nil
            if case .tooBig = listing { d.noFetchUntil = now() + Self.tooBigPause }
            if case .entries(let entries) = listing {
                var snap: [[UInt8]: Attr?] = [:]
                snap.reserveCapacity(entries.count)
                for e in entries where e.name != [46] && e.name != [46, 46] {
                    // A file with other hard links can change through a name elsewhere: ask.
                    let linkedElsewhere = e.attr.map { $0.nlink > 1 && $0.mode & 0o170000 != 0o040000 } ?? false
                    snap[e.name] = linkedElsewhere ? .some(nil) : e.attr
                }
                for (name, answer) in d.notedWhileFetching { Self.apply(answer, name, to: &snap) }
                d.notedWhileFetching = [:]
                d.snapshot = snap
                d.fetchedAt = now()
                d.owner = owner
            }
            dirs[dir] = d
        }
    }

    /// Whether the fetch that got `generation` is still wanted (no change has cut it):
    /// a background listing stops reading when not.
    public func wants(_ dir: UInt64, generation: UInt64) -> Bool {
        lock.withLock { dirs[dir].map { $0.fetching && $0.generation == generation } ?? false }
    }

    /// True while any directory has prefetch state (a lock-free check for hot paths).
    public var isActive: Bool { active.load(ordering: .relaxed) > 0 }

    /// This client changed `name` in `dir`: from now on the snapshot answers `answer` for it
    /// (`.unknown` sends the next lookup to the server). A fetch in flight gets the change
    /// when it is installed.
    public func note(_ dir: UInt64, _ name: [UInt8], _ answer: Answer) {
        guard active.load(ordering: .relaxed) > 0 else { return }
        lock.withLock {
            guard let fetching = dirs[dir]?.fetching else { return }
            if fetching {
                guard dirs[dir]!.notedWhileFetching.count < maxEntries else { return dropLocked(dir) }
                dirs[dir]!.notedWhileFetching[name] = answer
                return
            }
            guard dirs[dir]?.snapshot != nil else { return }
            // Mutated in place: a local copy of the entry would make every change copy
            // the whole snapshot (copy-on-write), O(entries) per create or unlink.
            Self.apply(answer, name, to: &dirs[dir]!.snapshot!)
        }
    }

    private static func apply(_ answer: Answer, _ name: [UInt8], to snap: inout [[UInt8]: Attr?]) {
        switch answer {
        case .found(let a): snap[name] = .some(a)
        case .absent: snap[name] = nil
        case .unknown: snap[name] = .some(nil)
        }
    }

    /// Forget all about `dir` (its snapshot and miss history).
    public func changed(_ dir: UInt64) {
        guard active.load(ordering: .relaxed) > 0 else { return }
        lock.withLock { dropLocked(dir) }
    }

    /// The directory itself is gone (forgotten by the kernel).
    public func forget(_ dir: UInt64) { changed(dir) }

    private func dropLocked(_ dir: UInt64) {
        guard let d = dirs[dir] else { return }
        if d.fetching {   // keep the entry so the fetch sees a newer generation and drops its result
            dirs[dir] = Dir(generation: d.generation &+ 1, fetching: false, noFetchUntil: now() + lifetime)
        } else {
            dirs[dir] = nil
            active.subtract(1, ordering: .relaxed)
        }
    }

    /// Bounds memory: forgets directories whose miss count and snapshot have both expired.
    private func pruneLocked(_ t: Double) {
        for (id, d) in dirs where !d.fetching && t - max(d.firstMiss ?? 0, d.fetchedAt) >= lifetime && t >= d.noFetchUntil {
            dirs[id] = nil
            active.subtract(1, ordering: .relaxed)
        }
    }

    public var snapshotCount: Int { lock.withLock { dirs.values.filter { $0.snapshot != nil }.count } }
}

extension Session {
    /// Fetches `path`'s listing with attributes for `pf` and installs it. The first chunk is
    /// read now and is small: a directory that fits answers the very lookup that asked. A
    /// bigger one is read on in the background, so a lookup in a huge directory never waits
    /// for its listing (nor for finding it over `maxEntries`).
    public func prefetch(_ path: [UInt8], into pf: DirPrefetch, dir: UInt64, generation: UInt64, as c: Caller) {
        guard let h = try? opendir(c, path) else { return pf.install(dir, generation: generation, .failed, owner: c) }
        var listing = ListingRead(handle: h, limit: pf.maxEntries)
        let finish = { [self] (l: inout ListingRead) in
            releasedir(h)
            pf.install(dir, generation: generation, l.result, owner: c)
        }
        guard listing.step(self, chunk: ListingRead.firstChunk) else { return finish(&listing) }
        // A walk through many big directories must not start a thread and a listing for each.
        guard pf.takeBackgroundSlot() else { return finish(&listing) }   // .failed: tried again later
        do {
            try Threads.start { [self] in
                while pf.wants(dir, generation: generation), listing.step(self, chunk: ListingRead.laterChunk) {}
                finish(&listing)
                pf.giveBackgroundSlot()
            }
        } catch {
            pf.giveBackgroundSlot()
            finish(&listing)
        }
    }
}

/// A directory's listing read chunk by chunk (READDIR plus), up to a limit of entries.
struct ListingRead {
    /// About 500 entries: what the asking lookup waits for.
    static let firstChunk: UInt32 = 64 * 1024
    static let laterChunk: UInt32 = 64 * 1024
    let handle: OpenHandle
    let limit: Int
    private var entries: [DirEntry] = []
    private var cookie: UInt64 = 0
    private(set) var result = DirPrefetch.Listing.failed

    init(handle: OpenHandle, limit: Int) { self.handle = handle; self.limit = limit }

    /// Reads one chunk; true while there is more to read.
    mutating func step(_ s: Session, chunk: UInt32) -> Bool {
        guard let r = try? s.readdir(handle, cookie: cookie, maxBytes: chunk, plus: true) else { result = .failed; return false }
        entries += r.entries
        if entries.count > limit { result = .tooBig; entries = []; return false }
        if r.eof || r.entries.isEmpty { result = .entries(entries); return false }
        cookie = r.entries.last!.cookie
        return true
    }
}
