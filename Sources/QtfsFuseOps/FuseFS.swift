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
    /// Proc mode's answers to the pid directory LOOKUPs sent ahead (nil: not proc mode, or entry_timeout=0).
    let pidFiles: PidFileNames?
    /// Walks looked up ahead where the kernel keeps no names (nil: entry_timeout > 0).
    let walkAhead: WalkAhead?
    /// Directory snapshots for lookups (nil: off, or a timeout is 0 so nothing may be cached).
    let prefetch: DirPrefetch?
    /// Extended attributes files are known not to have (asked before every write, by ls -l).
    let absentXattrs: AbsentXattrs?
    let opens = NodeOpens()
    /// A LOOKUP's attributes for the GETATTR right after it (attribute timeout 0).
    let lookupAttrs = LookupAttrs()
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
        pidFiles = opts.proc ? PidFileNames(lifetime: rules.pseudoNameLife) : nil
        walkAhead = opts.entryTimeout == 0 ? WalkAhead() : nil
        let life = min(opts.entryTimeout, opts.attrTimeout)
        prefetch = opts.prefetch && life > 0 ? DirPrefetch(lifetime: life) : nil
        absentXattrs = AbsentXattrs(lifetime: opts.attrTimeout)
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

    /// This client changed a file's attributes: its snapshot entries (one per known hard
    /// link) are stale.
    func childChanged(_ ino: fuse_ino_t) {
        guard let pf = prefetch, pf.isActive else { return }
        for p in nodes.places(of: UInt64(ino)) { pf.note(p.parent, p.name, .unknown) }
    }
}

let ESTALE_: Int32 = 116

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
}
