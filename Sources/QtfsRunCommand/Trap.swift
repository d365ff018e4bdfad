// One trapped call and how the supervisor answers it.
import CQtfsSys
import Glibc

enum Answer: Equatable {
    case runLocally            // not ours: the kernel performs the call as if never trapped
    case fail(Int32)           // the call fails with this errno
    case value(Int64)          // the call returns this
}

struct Trap {
    let notif: qtfs_notif
    let listener: Int32
    let caller: CallerProcess

    init(notif: qtfs_notif, listener: Int32) {
        self.notif = notif; self.listener = listener; caller = CallerProcess(pid: notif.pid)
    }
    var nr: UInt32 { UInt32(bitPattern: notif.nr) }

    func arg(_ i: Int) -> UInt64 {
        withUnsafeBytes(of: notif.args) { $0.load(fromByteOffset: i * 8, as: UInt64.self) }
    }

    /// The caller still waits in this call. Checked after reading its memory and before
    /// acting on the host: a pid reused by another process must not be acted for.
    var stillWaiting: Bool { qtfs_notif_valid(listener, notif.id) == 0 }

    func send(_ answer: Answer) {
        switch answer {
        case .runLocally: _ = qtfs_notif_continue(listener, notif.id)
        case .fail(let e): _ = qtfs_notif_answer(listener, notif.id, 0, e)
        case .value(let v): _ = qtfs_notif_answer(listener, notif.id, v, 0)
        }
    }
}
