// Files passed with SCM_RIGHTS over the unix socket bridge, DPU side (docs/client.md,
// "Unix sockets"): a regular file in a qtfs mount of our server crosses by its host
// path; one coming from the host is opened again through the qtfs mount that shows that
// host path here, with the rights of the DPU process that receives it.
#if canImport(Glibc)
import Glibc
#endif
import CQtfsSys
import QtfsProtocol
import QtfsRelay

public struct DPUFiles: FdTranslator {
    let server: ServerAddress
    let receiver: PeerIdentity     // the DPU process at the other end of the local socket
    let logLine: @Sendable (String) -> Void

    public init(server: ServerAddress, receiver: PeerIdentity, log: @escaping @Sendable (String) -> Void) {
        self.server = server; self.receiver = receiver; self.logLine = log
    }

    /// For a local end we connected ourselves (its peer credentials would be ours).
    public init(server: ServerAddress, receiver c: Caller, log: @escaping @Sendable (String) -> Void) {
        self.init(server: server, receiver: PeerIdentity(uid: c.uid, gid: c.gid, pid: Int32(bitPattern: c.pid), groups: c.groups), log: log)
    }

    public func describe(_ fd: Int32) -> Result<PassedFile, FdRefusal> {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(FdRefusal("a descriptor", String(cString: strerror(errno)))) }
        let path = FileKind.path(of: fd)
        if st.st_mode & S_IFMT == S_IFIFO {
            return PipeEnds.keep(fd).map { kept in
                connectPipe(kept.file.token, kept.end, source: kept.source)
                return kept.file
            }
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            return .failure(FdRefusal(FileKind.name(st.st_mode), "only regular files in a qtfs mount and pipes can be passed to the host"))
        }
        let mountId = qtfs_mount_id(fd)
        guard mountId >= 0, let entry = try? MountInfo.mine().first(where: { $0.id == UInt64(mountId) }),
              entry.isQtfs, entry.belongs(to: server), let hostBase = entry.hostPath,
              let rel = HostPath.relative(path, to: entry.mountPoint) else {
            return .failure(FdRefusal(path.isEmpty ? "a regular file" : path, "it is not in a qtfs mount of the server at \(server)"))
        }
        return .success(PassedFile(flags: UInt32(bitPattern: fcntl(fd, F_GETFL)), offset: UInt64(max(0, lseek(fd, 0, SEEK_CUR))),
                                   path: Array(HostPath.join(hostBase, rel).utf8)))
    }

    public func reopen(_ file: PassedFile) -> Result<Int32, FdRefusal> {
        if file.isPipe {
            return PipeEnds.make(file).map { ends in
                connectPipe(file.token, ends.keep, source: ends.source)
                return ends.give
            }
        }
        let hostPath = String(decoding: file.path, as: UTF8.self)
        guard !hostPath.split(separator: "/").contains(".."), let (entry, local) = place(hostPath) else {
            return .failure(FdRefusal(hostPath, "no qtfs mount of the server at \(server) shows it here"))
        }
        let flags = FileKind.reopenFlags(file.flags) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY
        let fd = asReceiver { open(local, flags) }
        guard fd >= 0 else { return .failure(FdRefusal(local, "open as uid \(receiver.uid): \(String(cString: strerror(errno)))")) }
        // Symlinks on the way may lead out of the mount: the file must be in it.
        var st = stat()
        guard qtfs_mount_id(fd) == Int64(entry.id), fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG,
              lseek(fd, off_t(Int64(bitPattern: file.offset)), SEEK_SET) >= 0 else {
            close(fd)
            return .failure(FdRefusal(local, "it is not a regular file of the qtfs mount at \(entry.mountPoint)"))
        }
        return .success(fd)
    }

    public func log(_ line: String) { logLine(line) }

    /// Claims the pipe's data connection (SOCK_ACCEPT with its token) on a thread of its
    /// own, so the relay goes on meanwhile, and relays `end` over it. On failure `end` is
    /// closed: the process holding the other end sees EOF or EPIPE.
    private func connectPipe(_ token: UInt64, _ end: Int32, source: Bool) {
        let server = server, logLine = logLine
        let started = try? Threads.start {
            do {
                let link = try SocketBridge.claim(server, token)
                SocketBridge.relay.addPipe(end, source: source, net: link.fd, seal: link.seal)
            } catch {
                close(end)
                logLine("qtfs relay: a passed pipe could not be connected to the host: \(error); it was closed")
            }
        }
        if started == nil { close(end) }
    }

    /// The qtfs mount (deepest host path first) that shows `hostPath`, and the path here.
    private func place(_ hostPath: String) -> (MountEntry, String)? {
        let mounts = ((try? MountInfo.mine()) ?? []).filter { $0.isQtfs && $0.belongs(to: server) }
        let candidates = mounts.compactMap { m -> (MountEntry, String, Int)? in
            guard let base = m.hostPath, let rel = HostPath.relative(hostPath, to: base), !rel.isEmpty else { return nil }
            return (m, HostPath.join(m.mountPoint, rel), base.count)
        }
        return candidates.max { $0.2 < $1.2 }.map { ($0.0, $0.1) }
    }

    /// Runs `body` with the receiver's file-system ids and groups (this thread only).
    private func asReceiver(_ body: () -> Int32) -> Int32 {
        guard geteuid() == 0, receiver.uid != 0 || receiver.gid != 0 else { return body() }
        let groups = receiver.groups.map { gid_t($0) }
        guard qtfs_become(receiver.uid, receiver.gid, groups, Int32(groups.count)) == 0 else { return -1 }
        defer { _ = qtfs_become(0, 0, nil, 0) }
        return body()
    }
}
