// Files passed with SCM_RIGHTS over the unix socket bridge, host side (docs/server.md,
// "Unix socket bridge"): a regular file inside an export crosses by its host path; one
// coming from the DPU is opened again inside its export, with the rights of the host
// process that receives it and through the whitelist's [Open] places.
import Glibc
internal import CQtfsSys
import Logging
import QtfsProtocol
import QtfsRelay

struct HostFiles: FdTranslator {
    let exports: Exports
    let whitelist: Whitelist?
    let receiver: Caller          // the host process at the other end of the local socket
    let pipes: PipeMeeting        // where relayed pipes meet their data connections
    let logger: Logger

    func describe(_ fd: Int32) -> Result<PassedFile, FdRefusal> {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(FdRefusal("a descriptor", String(cString: strerror(errno)))) }
        if st.st_mode & S_IFMT == S_IFIFO {
            return PipeEnds.keep(fd).flatMap { kept in
                pipes.meet(kept.file.token, end: kept.end, source: kept.source)
                    ? .success(kept.file) : .failure(FdRefusal("a pipe", "too many pipes wait for their connection"))
            }
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            return .failure(FdRefusal(FileKind.name(st.st_mode), "only regular files inside an export and pipes can be passed to the DPU"))
        }
        let path = FileKind.path(of: fd)
        guard path.hasPrefix("/"), !path.hasSuffix(" (deleted)") else {
            return .failure(FdRefusal(path.isEmpty ? "a regular file" : path, "it has no name the DPU could open (deleted?)"))
        }
        guard let hostPath = exportedPath(path) else { return .failure(FdRefusal(path, "it is not inside an export")) }
        return .success(PassedFile(flags: UInt32(bitPattern: fcntl(fd, F_GETFL)), offset: UInt64(max(0, lseek(fd, 0, SEEK_CUR))),
                                   path: Array(hostPath.utf8)))
    }

    /// A resolved path as the DPU names it: below an export's path as configured (the
    /// export may be reached through a symlink; the kernel gives resolved paths).
    private func exportedPath(_ resolved: String) -> String? {
        let inside = exports.all.compactMap { e -> (Export, Substring)? in
            let root = FileKind.path(of: e.fd)
            if root == "/" { return (e, Substring(resolved)) }
            guard resolved == root || resolved.hasPrefix(root + "/") else { return nil }
            return (e, resolved.dropFirst(root.count))   // "" or "/rest"
        }
        guard let (e, rest) = inside.min(by: { $0.1.count < $1.1.count }) else { return nil }
        return e.path == "/" ? String(rest) : e.path + rest
    }

    func reopen(_ file: PassedFile) -> Result<Int32, FdRefusal> {
        if file.isPipe {
            return PipeEnds.make(file).flatMap { ends in
                guard pipes.meet(file.token, end: ends.keep, source: ends.source) else {
                    close(ends.give)
                    return .failure(FdRefusal("a pipe", "too many pipes wait for their connection"))
                }
                return .success(ends.give)
            }
        }
        let path = String(decoding: file.path, as: UTF8.self)
        guard !path.split(separator: "/").contains(".."), let (export, rel) = try? exports.locate(file.path), !rel.isEmpty else {
            return .failure(FdRefusal(path, "it is not a file inside an export"))
        }
        let flags = FileKind.reopenFlags(file.flags)
        if export.readOnly && flags & O_ACCMODE != O_RDONLY { return .failure(FdRefusal(path, "its export is read-only")) }
        defer { _ = try? Credentials.asServer() }
        do {
            let fd = try Credentials.asCaller(receiver, squash: false) { try open(in: export, rel, flags, path) }
            if lseek(fd, off_t(Int64(bitPattern: file.offset)), SEEK_SET) < 0 && errno != ESPIPE {
                close(fd)
                return .failure(FdRefusal(path, "cannot seek to \(file.offset)"))
            }
            return .success(fd)
        } catch let r as FdRefusal {
            return .failure(r)
        } catch {
            return .failure(FdRefusal(path, "not allowed for uid \(receiver.uid)"))
        }
    }

    /// The parent directory beneath the export (no symlink out of it), the whitelist's
    /// [Open] check on it, then the name itself, not followed.
    private func open(in export: Export, _ rel: [UInt8], _ flags: Int32, _ path: String) throws -> Int32 {
        let relPath = String(decoding: rel, as: UTF8.self)
        let slash = relPath.lastIndex(of: "/")
        let dir = slash.map { String(relPath[..<$0]) } ?? "."
        let name = slash.map { String(relPath[relPath.index(after: $0)...]) } ?? relPath
        let beneath: UInt64 = 0x08 | 0x02   // RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS
        let dirFd = qtfs_openat2(export.fd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, beneath)
        guard dirFd >= 0 else { throw FdRefusal(path, "its directory: \(String(cString: strerror(errno)))") }
        defer { close(dirFd) }
        if let whitelist, !name.withCString({ whitelist.allows(.open, dir: dirFd, name: $0) }) {
            throw FdRefusal(path, "not in the whitelist's [Open] places")
        }
        let fd = openat(dirFd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw FdRefusal(path, "open as uid \(receiver.uid): \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw FdRefusal(path, "it is not a regular file on the host")
        }
        return fd
    }

    func log(_ line: String) { logger.warning("socket bridge: \(line)") }
}
