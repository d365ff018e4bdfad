// The supervisor's loop: each trapped call is handled on a thread of its own (a connect
// may wait for the host; the others must not wait behind it) and answered exactly once.
import CQtfsSys
import Glibc
import QtfsClient
import QtfsSystem

final class Supervisor: @unchecked Sendable {
    let listener: Int32
    let server: ServerAddress
    let rendezvous: Rendezvous

    init(listener: Int32, server: ServerAddress, rendezvous: Rendezvous) {
        self.listener = listener; self.server = server; self.rendezvous = rendezvous
    }

    /// Serves until no process under the filter is left (the listener then hangs up).
    func run() {
        var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        while true {
            pfd.revents = 0
            guard (try? sys("poll") { poll(&pfd, 1, -1) }) != nil else { break }
            if pfd.revents & Int16(POLLIN) == 0 { break }   // POLLHUP: the tree is gone
            var notif = qtfs_notif()
            guard qtfs_notif_recv(listener, &notif) == 0 else { continue }   // ENOENT: its caller died
            let trap = Trap(notif: notif, listener: listener)
            if let answer = quickAnswer(trap) { trap.send(answer); continue }
            do { try Threads.start { [self] in trap.send(answer(trap)) } } catch { trap.send(.fail(EAGAIN)) }
        }
    }

    /// Calls decided here without a thread of their own: connect and bind of addresses
    /// that are not unix socket paths (a daemon's TCP connects are most of what the filter
    /// stops), and the new mount API. Nil: the call needs paths resolved or the host.
    private func quickAnswer(_ trap: Trap) -> Answer? {
        switch trap.nr {
        case QTFS_NR_CONNECT.rawValue, QTFS_NR_BIND.rawValue:
            return SocketCalls.mayNameUnixPath(trap) ? nil : .runLocally
        case QTFS_NR_OPEN_TREE.rawValue, QTFS_NR_MOVE_MOUNT.rawValue, QTFS_NR_FSOPEN.rawValue, QTFS_NR_FSCONFIG.rawValue,
             QTFS_NR_FSMOUNT.rawValue, QTFS_NR_FSPICK.rawValue, QTFS_NR_MOUNT_SETATTR.rawValue:
            return mounts(trap).newMountAPI()
        default:
            return nil
        }
    }

    private func answer(_ trap: Trap) -> Answer {
        do {
            switch trap.nr {
            case QTFS_NR_MOUNT.rawValue: return try mounts(trap).mount()
            case QTFS_NR_UMOUNT2.rawValue: return try mounts(trap).umount()
            case QTFS_NR_CONNECT.rawValue: return try sockets(trap).connect()
            case QTFS_NR_BIND.rawValue: return try sockets(trap).bind()
            default: return .runLocally   // not ours (quickAnswer decided the new mount API)
            }
        } catch let e as Errno {
            if e.code != EFAULT && e.code != ENAMETOOLONG { Log.error("call \(trap.nr) of pid \(trap.notif.pid): \(e)") }
            return .fail(e.code)
        } catch {
            Log.error("call \(trap.nr) of pid \(trap.notif.pid): \(error)")
            return .fail(EIO)
        }
    }

    private func mounts(_ trap: Trap) -> MountCalls { MountCalls(trap: trap, server: server) }
    private func sockets(_ trap: Trap) -> SocketCalls { SocketCalls(trap: trap, server: server, rendezvous: rendezvous) }
}
