// The whitelist at run time: which host locations each kind of operation may touch.
// Thread-safe; `qtinfo` edits it live (list/add/remove/clear) and persists it only when
// asked (`save`). Matching is by location, never by path string (WhitelistMatch.swift).
import Glibc
internal import CQtfsSys
import Logging
import QtfsSystem

public final class Whitelist: @unchecked Sendable {
    public struct Entry: Equatable, Sendable {
        public let index: Int
        public let kind: Kind
        public let path: String
    }

    /// Where `save()` writes; nil for a whitelist built from text.
    public let file: String?
    /// Refusals are logged here (set by the server).
    var logger: Logger?
    private let lock = Lock()
    private var paths: [Kind: [String]] = [:]      // protected by lock
    private var places: [Kind: [Place]] = [:]      // protected by lock; resolved paths

    /// Loads an upstream-format whitelist file.
    public convenience init(file: String) throws {
        guard let text = readWholeFile(file) else {
            throw ConfigError("cannot read whitelist \(file): \(String(cString: strerror(errno))); check --whitelist")
        }
        try self.init(text: text, source: file, file: file)
    }

    public init(text: String, source: String = "whitelist", file: String? = nil) throws {
        self.file = file
        paths = try Whitelist.parse(text, source: source)
        for k in Kind.allCases { places[k] = (paths[k] ?? []).map(Place.init) }
    }

    /// Every entry, numbered in group order; `remove(index:)` takes these numbers.
    public func list() -> [Entry] {
        lock.withLock {
            var out: [Entry] = []
            for k in Kind.allCases {
                for p in paths[k] ?? [] { out.append(Entry(index: out.count, kind: k, path: p)) }
            }
            return out
        }
    }

    public func add(_ kind: Kind, _ path: String) throws {
        let place = Place(path)
        try lock.withLock {
            try Whitelist.validate(path, adding: kind, to: paths[kind] ?? [], at: "whitelist")
            paths[kind, default: []].append(path)
            places[kind, default: []].append(place)
        }
    }

    public func remove(index: Int) throws {
        guard let e = list().first(where: { $0.index == index }) else {
            throw ConfigError("no whitelist entry \(index); list them to see the numbers")
        }
        lock.withLock {
            guard let i = paths[e.kind]?.firstIndex(of: e.path) else { return }
            paths[e.kind]!.remove(at: i)
            places[e.kind]!.remove(at: i)
        }
    }

    /// Empties one group, or all of them.
    public func clear(_ kind: Kind? = nil) {
        lock.withLock {
            for k in kind.map({ [$0] }) ?? Kind.allCases { paths[k] = []; places[k] = [] }
        }
    }

    /// Writes the current entries back to `file` (atomically: a temporary file renamed);
    /// returns the file's path.
    @discardableResult
    public func save() throws -> String {
        guard let file else { throw ConfigError("this whitelist was not loaded from a file; nowhere to save it") }
        let text = Array(lock.withLock { Whitelist.render(paths) }.utf8)
        let tmp = file + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw ConfigError("cannot write \(tmp): \(String(cString: strerror(errno)))") }
        let ok = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == text.count && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp, file) == 0 else {
            unlink(tmp)
            throw ConfigError("cannot save whitelist \(file): \(String(cString: strerror(errno)))")
        }
        return file
    }

    /// A refusal: logged, answered EACCES (every request path, worker or loop, maps Errno).
    func denied(_ kind: Kind, _ path: [UInt8]) -> Errno {
        logger?.notice("refused by the whitelist", metadata: [
            "whitelist": "\(kind.rawValue)", "path": "\(String(decoding: path, as: UTF8.self))",
        ])
        return Errno(EACCES)
    }

    /// The resolved places of one kind, refreshed first when `refresh` is set.
    func places(_ kind: Kind, refresh: Bool) -> [Place] {
        lock.withLock {
            if refresh { places[kind] = (places[kind] ?? []).map { $0.refreshed() } }
            return places[kind] ?? []
        }
    }
}

/// A whitelisted location held open (O_PATH), so its identity cannot be reused by
/// another file while listed. Unresolvable paths (not created yet) have no identity.
final class Place: @unchecked Sendable {
    let path: String
    let fd: Int32
    let dev: UInt64
    let ino: UInt64

    init(_ path: String) {
        self.path = path
        fd = open(path, O_PATH | O_CLOEXEC)
        var st = stat()
        if fd >= 0 && fstat(fd, &st) == 0 {
            dev = UInt64(st.st_dev); ino = UInt64(st.st_ino)
        } else {
            dev = UInt64.max; ino = UInt64.max
        }
    }
    deinit { if fd >= 0 { close(fd) } }

    /// Still the file the path names now? Otherwise the path resolved afresh (a
    /// directory created after loading, or removed and made again).
    func refreshed() -> Place {
        var now = stat(), held = stat()
        let current = stat(path, &now) == 0
        if fd >= 0 && current && fstat(fd, &held) == 0 && held.st_dev == now.st_dev && held.st_ino == now.st_ino {
            return self
        }
        return Place(path)
    }
}
