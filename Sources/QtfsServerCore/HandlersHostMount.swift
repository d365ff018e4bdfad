// HOST_MOUNT and HOST_UMOUNT: mount(2) and umount2(2) on the host for a daemon on the DPU
// under qtfs-run (docs/protocol.md and docs/server.md, "Host mounts"). Off unless the
// whitelist's [Mount] group covers the target; root callers only; every host path stays
// inside the exports (its symlinks followed only while they do: HostPath), is opened
// confined beneath its export like any request's path, and reaches the kernel through
// /proc/self/fd so that a symlink swapped in after the check cannot redirect the call.
import Glibc
internal import CQtfsSys
import Logging
import QtfsProtocol
import QtfsSystem

extension Backend {
    func hostMount(_ r: HostMountRequest, logger: Logger) throws -> EmptyReply {
        try HostMounts(backend: self, logger: logger).mount(r)
    }

    func hostUmount(_ r: HostUmountRequest, logger: Logger) throws -> EmptyReply {
        try HostMounts(backend: self, logger: logger).umount(r)
    }
}

struct HostMounts {
    let backend: Backend
    let logger: Logger

    func mount(_ r: HostMountRequest) throws -> EmptyReply {
        let operation = HostMountOperation(flags: r.flags)
        let (e, rel) = try admit(r.caller, r.target)
        let source = operation.sourceIsHostPath ? try locate(r.source, "source", r.caller) : nil
        if let (se, _) = source { try admitExport(se, r.source, "source") }
        if operation == .create { try checkNewMount(r) }
        return try Credentials.asCaller(r.caller, squash: false) {
            let target = try PathCheck.resolve(e, rel)
            try requireWhitelisted(target, r.target)
            let targetFd = try openLast(target)
            defer { close(targetFd) }
            let sourceFd = try source.map { try openSource($0.0, $0.1, r.source, moving: operation == .move) }
            defer { if let sourceFd { close(sourceFd) } }
            try callMount(r, operation, targetFd: targetFd, sourceFd: sourceFd)
            return EmptyReply()
        }
    }

    func umount(_ r: HostUmountRequest) throws -> EmptyReply {
        let (e, rel) = try admit(r.caller, r.target)
        return try Credentials.asCaller(r.caller, squash: false) {
            let target = try PathCheck.resolve(e, rel)
            try requireWhitelisted(target, r.target)
            // Checks it exists and is no symlink; an fd held on it would make it busy (EBUSY).
            close(try openLast(target))
            // The name in the confined parent, not the path string: no component can be swapped.
            let path = Array("/proc/self/fd/\(target.dir)/".utf8) + target.name.dropLast().map { UInt8(bitPattern: $0) }
            do {
                try path.withCStr { p in try sys("umount2") { umount2(p, Int32(r.flags) | Int32(UMOUNT_NOFOLLOW)) } }
            } catch let e as Errno {
                logger.notice("host umount failed", metadata: meta(r.target, ["error": "\(String(cString: strerror(e.code)))"]))
                throw e
            }
            logger.info("host umount", metadata: meta(r.target, ["flags": "\(r.flags)"]))
            return EmptyReply()
        }
    }

    /// The checks every request passes first: the host mount switch (a whitelist), a root
    /// caller, a target inside a writable, unsquashed export, and not the export's root.
    private func admit(_ caller: Caller, _ target: [UInt8]) throws -> (Export, [UInt8]) {
        guard backend.whitelist != nil else {
            throw refuse(EPERM, "host mounts are off: the server has no whitelist", target,
                         fix: "start qtfs-server with --whitelist FILE holding [Mount] Path=DIR for the directories to mount on")
        }
        guard caller.uid == 0 else {
            throw refuse(EPERM, "caller uid \(caller.uid) is not root", target, fix: "only uid 0 may mount on the host")
        }
        let (e, rel) = try locate(target, "target", caller)
        try admitExport(e, target, "target")
        guard !rel.isEmpty else {
            throw refuse(EPERM, "target is the root of export \(e.path), which the server keeps serving beneath a mount",
                         target, fix: "mount on a directory inside the export")
        }
        return (e, rel)
    }

    /// The export holding an absolute host path, and the path beneath it, with its symlinks
    /// followed while they stay inside the exports (HostPath).
    private func locate(_ path: [UInt8], _ role: String, _ caller: Caller) throws -> (Export, [UInt8]) {
        guard path.first == UInt8(ascii: "/"), !path.contains(0) else { throw Errno(EINVAL) }
        guard !path.split(separator: UInt8(ascii: "/")).contains([0x2E, 0x2E]) else {
            throw refuse(EACCES, "\(role) has a '..' component", path, fix: "send the path normalised")
        }
        do {
            return try HostPath.locate(backend.exports, caller, path)
        } catch let e as Errno where e.code == EACCES {
            throw refuse(EACCES, "\(role) is outside every export, or a symlink in it leads out of them", path,
                         fix: "export a directory holding it (--export DIR)")
        }
    }

    private func admitExport(_ e: Export, _ path: [UInt8], _ role: String) throws {
        if e.rootSquash {
            throw refuse(EPERM, "\(role) is in export \(e.path), which squashes root", path,
                         fix: "export it without root_squash to allow host mounts there")
        }
        if e.readOnly {
            throw refuse(EROFS, "\(role) is in read-only export \(e.path)", path, fix: "export it read-write to allow host mounts there")
        }
    }

    /// EPERM (logged) unless [Mount] covers the resolved location.
    private func requireWhitelisted(_ r: borrowing Resolved, _ path: [UInt8]) throws {
        guard let whitelist = backend.whitelist else { throw Errno(EPERM) }
        guard r.withName({ whitelist.allows(.mount, dir: r.dir, name: $0) }) else {
            throw refuse(EPERM, "not beneath a [Mount] whitelist entry", path,
                         fix: "add [Mount] Path=\(String(decoding: path, as: UTF8.self)) (or a directory above it) to the whitelist")
        }
    }

    /// An O_PATH fd on the last component: a directory or a file, never a symlink (ELOOP:
    /// one swapped in since `locate` followed the path).
    private func openLast(_ r: borrowing Resolved) throws -> Int32 {
        let name = r.name.dropLast().map { UInt8(bitPattern: $0) }
        return try PathCheck.openBeneath(r.dir, name[...], flags: 0)
    }

    /// The source of a bind or move, confined like the target; a move's source is also
    /// unmounted from where it is, so [Mount] must cover it too.
    private func openSource(_ e: Export, _ rel: [UInt8], _ path: [UInt8], moving: Bool) throws -> Int32 {
        if rel.isEmpty { return try sys("dup") { dup(e.fd) } }
        let r = try PathCheck.resolve(e, rel)
        if moving { try requireWhitelisted(r, path) }
        return try openLast(r)
    }

    func refuse(_ errno: Int32, _ why: String, _ path: [UInt8], fix: String) -> Errno {
        logger.warning("host mount refused: \(why); \(fix)", metadata: meta(path))
        return Errno(errno)
    }

    func meta(_ path: [UInt8], _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        extra.merging(["path": "\(String(decoding: path, as: UTF8.self))"]) { a, _ in a }
    }
}
