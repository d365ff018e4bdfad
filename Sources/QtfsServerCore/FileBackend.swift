// The file operations behind the routing table (Routes.swift): what each request does to
// the host's files. A backend knows nothing of threads, the event loop or io_uring; it
// only honours `Waiting`, the way a single call honours O_NONBLOCK. `Backend` is the real
// one; unit tests put their own behind the router (RouterTests).
import Logging
import QtfsProtocol

/// Whether an operation may wait: for a device, a fifo's other end, a lock another process
/// holds (reading a pseudo file), or long work (freeing a large file's pages). Under
/// `.mustNotWait` such an operation throws `WouldWait` instead; what it had opened on the
/// way is closed again. A fifo OPEN that may not wait throws `FifoMustWait`, which carries
/// what the caller needs to wait for the other end without a thread (FifoOpen.swift).
enum Waiting: Equatable, Sendable {
    case mayWait
    case mustNotWait
}

/// Thrown under `Waiting.mustNotWait` by an operation that would have to wait.
struct WouldWait: Error {}

protocol FileBackend: AnyObject, Sendable {
    func mount(_ r: MountRequest) throws -> MountReply
    func lookup(_ r: PathRequest) throws -> AttrReply
    func getattr(_ r: GetattrRequest, _ handles: HandleTable) throws -> AttrReply
    func setattr(_ r: SetattrRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> AttrReply
    func readlink(_ r: PathRequest) throws -> ReadlinkReply
    func statfs(_ r: PathRequest) throws -> StatfsReply
    func access(_ r: AccessRequest) throws -> EmptyReply

    func mknod(_ r: MknodRequest) throws -> AttrReply
    func mkdir(_ r: MkdirRequest) throws -> AttrReply
    /// UNLINK (`directory` false) and RMDIR.
    func unlink(_ r: PathRequest, directory: Bool, _ waiting: Waiting) throws -> EmptyReply
    func symlink(_ r: SymlinkRequest) throws -> AttrReply
    func rename(_ r: TwoPathRequest, _ waiting: Waiting) throws -> EmptyReply
    func link(_ r: TwoPathRequest) throws -> AttrReply

    func open(_ r: OpenRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> OpenReply
    func openRead(_ r: OpenReadRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> OpenReadReply
    func lookupOpen(_ r: OpenReadRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> LookupOpenReply
    func create(_ r: CreateRequest, _ handles: HandleTable, _ waiting: Waiting) throws -> CreateReply
    func opendir(_ r: PathRequest, _ handles: HandleTable) throws -> OpenReply
    /// The whole response frame with request id `id` (entries are encoded straight into it).
    func readdir(_ r: ReaddirRequest, _ handles: HandleTable, id: UInt64) throws -> [UInt8]
    func fsync(_ r: FsyncRequest, _ handles: HandleTable) throws -> EmptyReply
    func lseek(_ r: LseekRequest, _ handles: HandleTable) throws -> LseekReply
    func fallocate(_ r: FallocateRequest, _ handles: HandleTable) throws -> EmptyReply

    func getxattr(_ r: XattrGetRequest) throws -> XattrReply
    func listxattr(_ r: XattrGetRequest) throws -> XattrReply
    func setxattr(_ r: SetxattrRequest) throws -> EmptyReply
    func removexattr(_ r: RemovexattrRequest) throws -> EmptyReply

    func hostMount(_ r: HostMountRequest, logger: Logger) throws -> EmptyReply
    func hostUmount(_ r: HostUmountRequest, logger: Logger) throws -> EmptyReply
}
