// mount(2) and umount2(2) aimed inside a qtfs mount are done on the host (HOST_MOUNT,
// HOST_UMOUNT) at the host paths; anything else runs locally. The new mount API is refused
// with ENOSYS, so libraries fall back to mount(2) (docs/offload.md says why).
import CQtfsSys
import Glibc
import QtfsClient
import QtfsProtocol

struct MountCalls {
    let trap: Trap
    let server: ServerAddress
    var translator: PathTranslator { PathTranslator(caller: trap.caller, server: server) }

    static let remount: UInt64 = 32, bind: UInt64 = 4096, move: UInt64 = 8192
    static let propagation: UInt64 = (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20)   // unbindable private slave shared
    static let noFollow: UInt32 = 8

    /// Old callers put 0xC0ED in the top half of the flags (MS_MGC_VAL); the kernel drops it.
    static func withoutMagic(_ flags: UInt64) -> UInt64 {
        flags & 0xFFFF_0000 == 0xC0ED_0000 ? flags & 0xFFFF : flags
    }

    func mount() throws -> Answer {
        if try trap.caller.inMountNamespaceOfItsOwn() { return .runLocally }
        let target = try trap.caller.string(at: trap.arg(1), limit: Wire.maxPath)
        guard case .host(let hostTarget, _) = try translator.place(of: target, last: .follow) else { return .runLocally }
        guard try trap.caller.canMount() else { return .fail(EPERM) }
        let flags = Self.withoutMagic(trap.arg(3))
        var request = HostMountRequest(caller: try trap.caller.caller(), flags: flags, target: Array(hostTarget.utf8),
                                       source: [], fstype: [], data: [])
        // The kernel's order: remount, bind, propagation change, move, new mount.
        if flags & Self.remount != 0 {
            request.data = try optionalString(4, limit: HostMountRequest.maxData)
        } else if flags & Self.bind != 0 || (flags & Self.move != 0 && flags & Self.propagation == 0) {
            let source = try trap.caller.string(at: trap.arg(0), limit: Wire.maxPath)
            guard let hostSource = try hostPath(source) else {
                return refuse(EXDEV, "mount \(text(source)) on \(text(target)): the source is not under a qtfs mount of \(server), so the host cannot see it; bind from a path under a qtfs mount")
            }
            request.source = Array(hostSource.utf8)
        } else if flags & Self.propagation == 0 {
            request.source = try optionalString(0, limit: Wire.maxPath)
            request.fstype = try optionalString(2, limit: Wire.maxName)
            request.data = try optionalString(4, limit: HostMountRequest.maxData)
            if request.fstype == Array("overlay".utf8) {
                guard let data = try OverlayOptions.translate(request.data, with: hostPath) else {
                    return refuse(EXDEV, "overlay on \(text(target)): lowerdir, upperdir and workdir must all be under qtfs mounts of \(server) (options: \(text(request.data)))")
                }
                request.data = data
            }
        }
        guard trap.stillWaiting else { return .fail(EINTR) }
        Log.call("mount \(text(request.source)) on host \(hostTarget) type \(text(request.fstype)) flags \(flags) for pid \(trap.notif.pid)")
        return answer(HostRequest.send(server, .hostMount) { request.encode(into: &$0) }, "mount on host \(hostTarget)")
    }

    func umount() throws -> Answer {
        if try trap.caller.inMountNamespaceOfItsOwn() { return .runLocally }
        let target = try trap.caller.string(at: trap.arg(0), limit: Wire.maxPath)
        let flags = UInt32(truncatingIfNeeded: trap.arg(1))
        let last: PathTranslator.Last = flags & Self.noFollow != 0 ? .noFollow : .follow
        guard case .host(let hostTarget, _) = try translator.place(of: target, last: last) else { return .runLocally }
        guard try trap.caller.canMount() else { return .fail(EPERM) }
        guard flags & ~HostUmountRequest.allowedFlags == 0 else { return .fail(EINVAL) }
        let request = HostUmountRequest(caller: try trap.caller.caller(), flags: flags, target: Array(hostTarget.utf8))
        guard trap.stillWaiting else { return .fail(EINTR) }
        Log.call("umount host \(hostTarget) flags \(flags) for pid \(trap.notif.pid)")
        return answer(HostRequest.send(server, .hostUmount) { request.encode(into: &$0) }, "umount of host \(hostTarget)")
    }

    /// fsopen, fsconfig, fsmount, fspick, move_mount, mount_setattr, and open_tree with
    /// OPEN_TREE_CLONE: where they will land is not known when they are made.
    func newMountAPI() -> Answer {
        if trap.nr == QTFS_NR_OPEN_TREE.rawValue && trap.arg(2) & 1 == 0 { return .runLocally }   // a plain O_PATH open
        return .fail(ENOSYS)
    }

    /// The host path of a caller path under a qtfs mount of our server, else nil.
    private func hostPath(_ path: [UInt8]) throws -> String? {
        switch try translator.place(of: path, last: .follow) {
        case .host(let p, _): return p
        case .mountPoint(let m): return m.hostPath
        case .local: return nil
        }
    }

    private func optionalString(_ i: Int, limit: Int) throws -> [UInt8] {
        trap.arg(i) == 0 ? [] : try trap.caller.string(at: trap.arg(i), limit: limit)
    }

    private func answer(_ status: Int32, _ what: String) -> Answer {
        if status == 0 { return .value(0) }
        let line = "\(what) for pid \(trap.notif.pid) failed on the host: \(String(cString: strerror(status)))"
        if status == EPERM || status == EACCES { Log.error(line + " (refused: see qtfs-server's log)") } else { Log.call(line) }
        return .fail(status)
    }

    private func refuse(_ e: Int32, _ why: String) -> Answer {
        Log.error(why)
        return .fail(e)
    }

    private func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
}

/// overlay's lowerdir (":"-separated), upperdir and workdir, rewritten as host paths.
enum OverlayOptions {
    static let pathKeys: Set<String> = ["lowerdir", "upperdir", "workdir"]

    /// The options with every path translated; nil when one is not under a qtfs mount.
    static func translate(_ data: [UInt8], with host: ([UInt8]) throws -> String?) throws -> [UInt8]? {
        var out: [String] = []
        for option in String(decoding: data, as: UTF8.self).split(separator: ",") {
            let kv = option.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, pathKeys.contains(String(kv[0])) else { out.append(String(option)); continue }
            var dirs: [String] = []
            for dir in kv[1].split(separator: ":") {
                guard let h = try host(Array(dir.utf8)) else { return nil }
                dirs.append(h)
            }
            out.append("\(kv[0])=\(dirs.joined(separator: ":"))")
        }
        return Array(out.joined(separator: ",").utf8)
    }
}
