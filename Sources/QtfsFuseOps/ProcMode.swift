// -o proc (upstream qtfs proc.c, reworked): at the root of a /proc mount
//   self        -> <local_proc>/<caller's pid>                     (the DPU process asking)
//   thread-self -> <local_proc>/<caller's pid>/task/<caller's tid>
//   mounts      -> 1/mounts      (host init's table; relative, so it works in a chroot)
//   <own pid>   -> <local_proc>/<caller's pid>   (the caller's pid, looked up by the caller:
//                  procps reads /proc/<getpid()>, and a DPU pid means nothing on the host)
// These four are synthetic symlinks with fixed nodeids and no caching; everything else
// is the host's /proc, served normally. docs/client.md states the rules.
import CFuse
import CQtfsSys
import QtfsClient

struct ProcMode {
    static let selfId: UInt64 = 2, threadSelfId: UInt64 = 3, mountsId: UInt64 = 4, ownPidId: UInt64 = 5
    let localProc: String
    let mountpoint: String
    /// Where the DPU's processes are seen, in the order tgid() reads them.
    private let procRoots: [String]
    /// The one of them whose pid numbers are FUSE's.
    private let callerProcfs: CallerProcfs

    init(localProc: String, mountpoint: String) {
        self.localProc = localProc
        self.mountpoint = mountpoint
        procRoots = mountpoint == "/proc" ? [localProc] : [localProc, "/proc"]
        callerProcfs = CallerProcfs(roots: procRoots)
    }

    func syntheticId(_ parent: fuse_ino_t, _ name: [UInt8]) -> UInt64? {
        guard parent == FUSE_ROOT_ID else { return nil }
        switch String(decoding: name, as: UTF8.self) {
        case "self": return Self.selfId
        case "thread-self": return Self.threadSelfId
        case "mounts": return Self.mountsId
        default: return nil
        }
    }

    func isSynthetic(_ ino: fuse_ino_t) -> Bool { (Self.selfId...Self.ownPidId).contains(UInt64(ino)) }

    /// The caller's own pid as a name at the root.
    private func isOwnPid(_ parent: fuse_ino_t, _ name: [UInt8], pid tid: Int32) -> Bool {
        guard parent == FUSE_ROOT_ID, name.first.map({ $0 >= 0x31 && $0 <= 0x39 }) == true else { return false }
        let pid = String(decoding: name, as: UTF8.self)
        return mayBeProcessOf(pid, tid) && pid == String(tgid(tid))
    }

    /// False when the DPU's procfs shows that thread `tid` is not in process `pid`: it lists
    /// a process's threads under <pid>/task. Every lookup of a pid at the root asks this,
    /// and a path walk or two cost far less than the status file tgid() formats and parses.
    /// In the procfs that knows the caller, one walk answers; before it is known, a root
    /// that does not list `tid` at all sends the question on to the next.
    private func mayBeProcessOf(_ pid: String, _ tid: Int32) -> Bool {
        if let root = callerProcfs.root { return Sys.exists("\(root)/\(pid)/task/\(tid)") }
        for root in procRoots {
            if Sys.exists("\(root)/\(pid)/task/\(tid)") { return true }
            if Sys.exists("\(root)/\(tid)") { return false }
        }
        return true
    }

    /// The link text for the calling thread `tid`.
    func target(_ id: UInt64, pid tid: Int32) -> String {
        if id == Self.mountsId { return "1/mounts" }
        let pid = tgid(tid)
        return id == Self.threadSelfId ? "\(localProc)/\(pid)/task/\(tid)" : "\(localProc)/\(pid)"
    }

    /// FUSE reports the caller's thread id; its process id comes from the DPU's procfs.
    private func tgid(_ tid: Int32) -> Int32 {
        if let root = callerProcfs.root, let t = Sys.tgid(of: tid, procRoot: root) { return t }
        for root in procRoots { if let t = Sys.tgid(of: tid, procRoot: root) { return t } }
        return tid
    }

    func stat(_ id: UInt64, pid: Int32) -> stat {
        var st = CFuse.stat()
        st.st_ino = UInt(0xffff_ffff_ffff_ff00 | id)
        st.st_mode = UInt32(S_IFLNK) | 0o777
        st.st_nlink = 1
        st.st_size = target(id, pid: pid).utf8.count
        return st
    }

    /// The synthetic node a lookup of `name` in `parent` finds, if any.
    func lookupId(_ parent: fuse_ino_t, _ name: [UInt8], pid: Int32) -> UInt64? {
        syntheticId(parent, name) ?? (isOwnPid(parent, name, pid: pid) ? Self.ownPidId : nil)
    }

    /// Its entry: timeouts 0, since the answer depends on the caller.
    func entry(_ id: UInt64, pid: Int32) -> fuse_entry_param {
        var e = fuse_entry_param()
        e.ino = fuse_ino_t(id)
        e.attr = stat(id, pid: pid)
        return e
    }
}

/// Which of the proc-mode roots shows the pid numbers FUSE reports (those of qtfs-fuse's
/// pid namespace): the one where `self` reads as this daemon's own pid. Looked for until
/// found, since local_proc may be mounted after qtfs-fuse starts; then kept.
final class CallerProcfs: @unchecked Sendable {
    private let roots: [String]
    private let lock = Lock()
    private var found: String?

    init(roots: [String]) { self.roots = roots }

    var root: String? {
        lock.withLock {
            if found == nil {
                let me = String(getpid())
                found = roots.first { Sys.readLink("\($0)/self") == me }
            }
            return found
        }
    }
}
