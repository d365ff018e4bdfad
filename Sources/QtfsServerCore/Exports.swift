// The exported host directories, each held open as an O_PATH fd for the server's life.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

final class Export: @unchecked Sendable {
    let id: UInt32
    let path: String        // normalised absolute path, no trailing '/' except "/"
    let fd: Int32           // O_PATH | O_DIRECTORY
    let readOnly: Bool
    let rootSquash: Bool

    init(id: UInt32, config: ExportConfig) throws {
        guard config.path.hasPrefix("/") else {
            throw ConfigError("export '\(config.path)' is not an absolute path; write it as /some/dir")
        }
        let fd = open(config.path, O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigError("cannot export \(config.path): \(String(cString: strerror(errno))); check that the directory exists")
        }
        self.id = id
        self.path = Export.normalise(config.path)
        self.fd = fd
        self.readOnly = config.readOnly
        self.rootSquash = config.rootSquash
    }

    deinit { close(fd) }

    static func normalise(_ p: String) -> String {
        var s = p
        while s.count > 1 && s.hasSuffix("/") { s.removeLast() }
        return s
    }

    /// The path below this export for an absolute host path, or nil if not inside it.
    func relative(_ host: [UInt8]) -> [UInt8]? {
        let root = Array(path.utf8)
        if root == [0x2F] { return Array(host.dropFirst()) }
        guard host.count >= root.count, Array(host.prefix(root.count)) == root else { return nil }
        if host.count == root.count { return [] }
        guard host[root.count] == 0x2F else { return nil }
        return Array(host.dropFirst(root.count + 1))
    }
}

final class Exports: @unchecked Sendable {
    let all: [Export]

    init(_ configs: [ExportConfig]) throws {
        guard !configs.isEmpty else { throw ConfigError("no export configured; give at least one --export /dir") }
        all = try configs.enumerated().map { try Export(id: UInt32($0.offset), config: $0.element) }
    }

    func get(_ id: UInt32) throws -> Export {
        guard Int(id) < all.count else { throw Errno(EINVAL) }
        return all[Int(id)]
    }

    /// MOUNT: the export holding an absolute host path (longest root wins) and the path
    /// below it. Trailing slashes are ignored.
    func locate(_ hostPath: [UInt8]) throws -> (Export, [UInt8]) {
        guard hostPath.first == 0x2F else { throw Errno(EINVAL) }
        var p = hostPath
        while p.count > 1 && p.last == 0x2F { p.removeLast() }
        var best: (Export, [UInt8])?
        for e in all {
            guard let rel = e.relative(p) else { continue }
            if let b = best, b.0.path.utf8.count >= e.path.utf8.count { continue }
            best = (e, rel)
        }
        guard let found = best else { throw Errno(EACCES) }
        return found
    }
}
