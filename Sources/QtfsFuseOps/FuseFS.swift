// Shared state of the mounted file system and the helpers every handler uses.
import CFuse
import CQtfsSys
import Logging
import QtfsClient
import QtfsProtocol
import QtfsSystem

/// What the operations need to know of the mount's options (qtfs-fuse's Options).
public struct MountSettings: Sendable {
    public var server = ServerAddress(host: "127.0.0.1", port: 12345)
    public var mountpoint = ""
    public var entryTimeout = 1.0
    public var negativeTimeout = 0.0
    public var attrTimeout = 1.0
    public var proc = false
    public var localProc = "/local_proc"
    public var writeback = false
    public var writeBehind = true
    public var prefetch = true
    public var remoteFifos = true
    public init() {}
}

/// One mounted file system: the session to the server and what the client keeps of the
/// tree. libfuse hands it to every operation as the session's userdata (`FS.of(req)`).
public final class FS: @unchecked Sendable {
    public let session: Session
    let nodes: NodeTable
    let inos: InoMap
    let opts: MountSettings
    /// What the kernel may cache of names, attributes and listings (CacheRules.swift).
    let rules: CacheRules
    /// Where answers go (libfuse, or a test's recorder).
    let replies: ReplyChannel
    /// Lines about the mount (not per request: those are FuseLog's).
    let logger: Logger
    /// The stream channel and open host fifos.
    let fifos = FifoRegistry()
    let proc: ProcMode?
    /// Proc mode's root pid names the host found lately (nil: not proc mode, or entry_timeout=0).
    let keptPids: KeptPidNames?
    /// Directory snapshots for lookups (nil: off, or a timeout is 0 so nothing may be cached).
    let prefetch: DirPrefetch?
    /// Files known to have no security.capability (asked before every write).
    let noCaps: NoCapsCache?
    var writeback = false       // set in init, once the kernel agreed
    /// Set once the FUSE session exists (for notifications to the kernel).
    public var fuseSession: OpaquePointer?

    public convenience init(session: Session, settings: MountSettings, logger: Logger) {
        self.init(session: session, settings: settings, logger: logger, replies: LibfuseReplies())
    }

    init(session: Session, settings opts: MountSettings, logger: Logger, replies: ReplyChannel) {
        self.session = session
        self.logger = logger
        self.opts = opts
        rules = CacheRules(opts)
        self.replies = replies
        nodes = NodeTable(base: session.base, root: session.root)
        inos = InoMap(rootDev: session.root.dev)
        proc = opts.proc ? ProcMode(localProc: opts.localProc, mountpoint: opts.mountpoint) : nil
        keptPids = opts.proc ? KeptPidNames(lifetime: rules.pseudoNameLife) : nil
        let life = min(opts.entryTimeout, opts.attrTimeout)
        prefetch = opts.prefetch && life > 0 ? DirPrefetch(lifetime: life) : nil
        noCaps = NoCapsCache(lifetime: opts.attrTimeout)
    }

    /// The mount a libfuse request belongs to: the userdata given to fuse_session_new.
    static func of(_ req: fuse_req_t?) -> FS { from(fuse_req_userdata(req)) }
    static func from(_ userdata: UnsafeMutableRawPointer?) -> FS {
        Unmanaged<FS>.fromOpaque(userdata!).takeUnretainedValue()
    }
    /// The userdata to hand fuse_session_new; the caller keeps `self` alive meanwhile.
    public var userdata: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// This client created, removed or renamed `name` in `dir`: keep its snapshot in step.
    func dirChanged(_ dir: fuse_ino_t, _ name: [UInt8], _ now: DirPrefetch.Answer) {
        prefetch?.note(UInt64(dir), name, now)
    }

    /// What the host said of `name` in `parent` (nil: absent), kept when the kernel may not
    /// keep it itself because the answer depends on the asker (KeptPidNames).
    func noteAskerDependent(_ parent: fuse_ino_t, _ name: [UInt8], _ a: Attr?) {
        guard let kept = keptPids, rules.askerDependent(parent: UInt64(parent), name: name) else { return }
        if let a { kept.note(name, a) } else { kept.forget(name) }
    }

    /// The attributes of an asker-dependent name the host found within the entry timeout.
    func keptAskerDependent(_ parent: fuse_ino_t, _ name: [UInt8]) -> Attr? {
        guard let kept = keptPids, rules.askerDependent(parent: UInt64(parent), name: name) else { return nil }
        return kept.attr(name)
    }

    /// This client changed a file's attributes: its snapshot entries (one per known hard
    /// link) are stale.
    func childChanged(_ ino: fuse_ino_t) {
        guard let pf = prefetch, pf.isActive else { return }
        for p in nodes.places(of: UInt64(ino)) { pf.note(p.parent, p.name, .unknown) }
    }
}

let ESTALE_: Int32 = 116

func bytes(_ name: UnsafePointer<CChar>?) -> [UInt8] {
    guard let name else { return [] }
    return Array(UnsafeBufferPointer(start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self),
                                     count: Sys.cLength(name)))
}

extension FS {
    func path(_ ino: fuse_ino_t) throws -> [UInt8] {
        // proc mode's synthetic links have no host path: they cannot be changed.
        if let proc, proc.isSynthetic(ino) { throw Errno(EPERM) }
        guard let p = nodes.path(UInt64(ino)) else { throw Errno(ESTALE_) }
        return p
    }
    func path(_ parent: fuse_ino_t, _ name: [UInt8]) throws -> [UInt8] {
        guard let p = nodes.path(UInt64(parent), name) else { throw Errno(ESTALE_) }
        return p
    }

    func makeStat(_ a: Attr) -> stat {
        var st = stat()
        st.st_ino = UInt(inos.map(dev: a.dev, ino: a.ino))
        // A fifo node would be served by the DPU's own pipe code: show it as a regular file.
        st.st_mode = FifoOps.shownAsFile(self, a) ? a.mode & 0o7777 | 0o100000 : a.mode
        st.st_nlink = UInt(a.nlink)
        st.st_uid = a.uid
        st.st_gid = a.gid
        st.st_rdev = UInt(a.rdev)
        st.st_size = Int(bitPattern: UInt(a.size))
        st.st_blksize = Int(a.blksize)
        st.st_blocks = Int(bitPattern: UInt(a.blocks))
        st.st_atim = timespec(tv_sec: Int(a.atime.seconds), tv_nsec: Int(a.atime.nanoseconds))
        st.st_mtim = timespec(tv_sec: Int(a.mtime.seconds), tv_nsec: Int(a.mtime.nanoseconds))
        st.st_ctim = timespec(tv_sec: Int(a.ctime.seconds), tv_nsec: Int(a.ctime.nanoseconds))
        return st
    }

    /// Attribute cache time: never for pseudo files, whose contents change on their own.
    func attrTimeout(_ a: Attr) -> Double { rules.attr(pseudo: a.isPseudo) }

    /// The entry for `name` in `parent`, registered as node `id`.
    func entry(_ id: UInt64, _ a: Attr, parent: fuse_ino_t, name: [UInt8]) -> fuse_entry_param {
        var e = fuse_entry_param()
        e.ino = fuse_ino_t(id)
        e.attr = makeStat(a)
        e.attr_timeout = attrTimeout(a)
        e.entry_timeout = rules.entry(parent: UInt64(parent), name: name, pseudo: a.isPseudo)
        return e
    }
}
