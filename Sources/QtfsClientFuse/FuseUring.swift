// The FUSE request loop over io_uring (FuseUring.c in CFuse): chosen with -o uring (the
// default; used when the kernel offers it) or -o nouring, shown by qtinfo. Its /dev/fuse
// hooks also accept FUSE_HANDLE_KILLPRIV_V2 in INIT, in both modes.
import CFuse
import Logging

enum FuseUring {
    /// Ring entries (each with its thread) a CPU queue starts with; it grows by one whenever
    /// a request takes its last idle entry (FuseUring.c), as libfuse's thread pool does.
    static let entriesPerQueue: UInt32 = 8

    /// Routes the session's /dev/fuse traffic through the hooks (FuseUring.c): INIT gets
    /// what libfuse 3.14 does not know (FUSE_HANDLE_KILLPRIV_V2; the ring when `ring`).
    /// Call after mounting. False (with a log line) if libfuse refused them: the mount then
    /// uses /dev/fuse only, and the kernel checks capabilities before writes itself.
    static func attach(_ se: OpaquePointer, ring: Bool, explicit: Bool) -> Bool {
        let rc = qtfs_fuse_uring_attach(se, ring ? 1 : 0, entriesPerQueue, explicit ? 1 : 0) { level, line in
            let text = Logger.Message(stringLiteral: line.map { String(cString: $0) } ?? "")
            if level == 0 { FuseLogging.client.info(text) } else { FuseLogging.client.warning(text) }
        }
        if rc != 0 {
            FuseLogging.client.warning("libfuse refused the custom /dev/fuse I/O hooks (errno \(-rc)): requests go through /dev/fuse, and the kernel reads security.capability before each write")
        }
        return rc == 0
    }

    /// After the session loop: lets the ring threads finish (a second or two at most).
    static func stop() { qtfs_fuse_uring_stop(2000) }

    /// What qtinfo shows as the mount's request loop.
    static var loopName: String { qtfs_fuse_uring_active() != 0 ? "io_uring" : "/dev/fuse" }
    static var served: UInt64 { qtfs_fuse_uring_served() }
}
