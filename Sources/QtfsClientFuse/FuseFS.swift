// Shared state of the mounted file system and the helpers every handler uses.
import CFuse
import CQtfsSys
import QtfsClient
import QtfsProtocol

final class FS: @unchecked Sendable {
    nonisolated(unsafe) static var shared: FS!

    let session: Session
    let nodes: NodeTable
    let inos: InoMap
    let opts: Options
    let proc: ProcMode?
    /// Directory snapshots for lookups (nil: off, or a timeout is 0 so nothing may be cached).
    let prefetch: DirPrefetch?
    /// Files known to have no security.capability (asked before every write).
    let noCaps: NoCapsCache?
    var writeback = false       // set in init, once the kernel agreed
    var fuseSession: OpaquePointer?

    init(session: Session, opts: Options) {
        self.session = session
        self.opts = opts
        nodes = NodeTable(base: session.base, root: session.root)
        inos = InoMap(rootDev: session.root.dev)
        proc = opts.proc ? ProcMode(localProc: opts.localProc, mountpoint: opts.mountpoint) : nil
        let life = min(opts.entryTimeout, opts.attrTimeout)
        prefetch = opts.prefetch && life > 0 ? DirPrefetch(lifetime: life) : nil
        noCaps = NoCapsCache(lifetime: opts.attrTimeout)
    }

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

/// Runs a handler body; a thrown FSError (or anything else, as EIO) becomes the reply.
/// The body must send its own reply as its last step, so exactly one reply goes out.
/// A FUSE interrupt for the request ends its wait for the server with EINTR.
@inline(__always)
func handle(_ req: fuse_req_t?, _ body: () throws -> Void) {
    let token = UInt(bitPattern: req)
    fuse_req_interrupt_func(req, onInterrupt, Interrupts.arm(token: token))
    defer { Interrupts.disarm() }
    do { try body() } catch {
        replyErr(req, (error as? FSError)?.errno ?? EIO)
    }
}

private let onInterrupt: fuse_interrupt_func_t = { req, context in
    if let context { Interrupts.fire(context, token: UInt(bitPattern: req)) }
}

/// Who is asking: uid, gid, pid from the request, plus supplementary groups for non-root.
func caller(_ req: fuse_req_t?) -> Caller {
    let ctx = fuse_req_ctx(req)!.pointee
    var c = Caller(uid: ctx.uid, gid: ctx.gid, pid: UInt32(bitPattern: ctx.pid))
    if ctx.uid != 0 {
        var list = [gid_t](repeating: 0, count: Wire.maxGroups)
        let n = fuse_req_getgroups(req, Int32(list.count), &list)
        if n > 0 { c.groups = Array(list.prefix(min(Int(n), list.count))) }
    }
    return c
}

func umask(_ req: fuse_req_t?) -> UInt32 { UInt32(fuse_req_ctx(req)!.pointee.umask) }

func bytes(_ name: UnsafePointer<CChar>?) -> [UInt8] {
    guard let name else { return [] }
    return Array(UnsafeBufferPointer(start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self),
                                     count: Sys.cLength(name)))
}

extension FS {
    func path(_ ino: fuse_ino_t) throws -> [UInt8] {
        // proc mode's synthetic links have no host path: they cannot be changed.
        if let proc, proc.isSynthetic(ino) { throw FSError(EPERM) }
        guard let p = nodes.path(UInt64(ino)) else { throw FSError(ESTALE_) }
        return p
    }
    func path(_ parent: fuse_ino_t, _ name: [UInt8]) throws -> [UInt8] {
        guard let p = nodes.path(UInt64(parent), name) else { throw FSError(ESTALE_) }
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
    func attrTimeout(_ a: Attr) -> Double { a.isPseudo ? 0 : opts.attrTimeout }

    func entry(_ id: UInt64, _ a: Attr) -> fuse_entry_param {
        var e = fuse_entry_param()
        e.ino = fuse_ino_t(id)
        e.attr = makeStat(a)
        e.attr_timeout = attrTimeout(a)
        e.entry_timeout = a.isPseudo ? 0 : opts.entryTimeout
        return e
    }

    /// Registers a new or found name and replies with its entry, cached by the kernel for
    /// the timeouts but at most `life` seconds (what is left of a snapshot's lifetime).
    func replyEntry(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: [UInt8], _ a: Attr,
                    cacheAtMost life: Double = .infinity) {
        var e = entry(nodes.found(parent: UInt64(parent), name: name, attr: a), a)
        e.entry_timeout = min(e.entry_timeout, life)
        e.attr_timeout = min(e.attr_timeout, life)
        if fuse_reply_entry(req, &e) != 0 { nodes.forget(UInt64(e.ino), 1) }
    }
}
