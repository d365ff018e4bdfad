// Every opcode's path through the server, in one table: where it runs and how it is
// answered. The engine (EngineRouting.swift) and the workers (WorkerPool) only follow it.
// Frames of a connection that has not finished its handshake never reach the table
// (Engine.handleFrame sends them to the handshake).
import Glibc
import Logging
import QtfsProtocol

/// Where a request runs.
enum Placement: Equatable {
    /// On the event loop: it needs the connection's own state (handshake, handle table,
    /// waits, sockets) and never blocks.
    case loop
    /// The loop submits an io_uring op on a handle (tmpfs data is copied on the loop instead;
    /// a fifo's data waits for readiness in the ring).
    case ring
    /// Tried on the loop with `Waiting.mustNotWait`; a request that would wait (`WouldWait`)
    /// is made again on a worker, where it may.
    case loopThenWorker
    /// On a worker thread: it may block (fsync, truncate, rename, freeing files, mounts).
    case worker
}

/// The engine's own handlers: they answer themselves, at once or when their io_uring op,
/// a fifo's other end or a polled event arrives.
typealias EngineHandler = (Engine, Connection, FrameHeader, UnsafeRawBufferPointer) -> Void
/// A backend handler: the backend's reply is the one answer frame (a thrown errno becomes
/// an error frame).
typealias BackendHandler = (any FileBackend, BackendCall) throws -> [UInt8]

enum Handler {
    case engine(EngineHandler)
    case backend(BackendHandler)
    /// Answered at once with this errno (events and opcodes a client does not send).
    case refuse(Int32)
}

struct Route {
    let placement: Placement
    let handler: Handler
    init(_ placement: Placement, _ handler: Handler) { self.placement = placement; self.handler = handler }
}

extension Router {
    /// The table. Exhaustive on purpose: a new opcode does not build until it has a route.
    static func route(for op: Opcode) -> Route {
        switch op {
        // The handshake (docs/protocol.md, "Authentication"). A repeated AUTH_* is refused.
        case .hello: return Route(.loop, .engine { $0.gatekeeper.hello($1, $2, $3) })
        case .authChallenge, .authResponse: return Route(.loop, .engine { $0.gatekeeper.authenticate($1, $2, $3) })
        // Data: answered when the io_uring op completes (READ may splice from the file).
        case .read: return Route(.ring, .engine { $0.startRead($1, $2, $3) })
        case .write: return Route(.ring, .engine { $0.startWrite($1, $2, $3) })
        // The handle table and waiting requests: answered at once.
        case .flush, .release, .releasedir: return Route(.loop, .engine { $0.handleOp($1, $2, $3) })
        case .cancel: return Route(.loop, .engine { $0.fifos.cancel($1, $2, $3) })
        case .poll: return Route(.loop, .engine { $0.fifos.poll($1, $2, $3) })   // POLL_READY later
        // The connection becomes a socket relay or a remote program's channel after its answer.
        case .sockConnect: return Route(.loop, .engine { $0.sockets.connect($1, $2, $3) })
        case .sockListen: return Route(.loop, .engine { $0.sockets.listen($1, $2, $3) })
        case .sockAccept: return Route(.loop, .engine { $0.sockets.accept($1, $2, $3) })
        case .rexecStart: return Route(.loop, .engine { $0.rexecStart($1, $2, $3) })
        // Metadata that takes microseconds on local file systems, less than the two thread
        // hand-offs a worker costs. OPEN waits for a fifo's other end on the loop (Fifos).
        case .lookup: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.lookup(c.request())) })
        case .getattr: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.getattr(c.request(), c.handles)) })
        case .readlink: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.readlink(c.request())) })
        case .access: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.access(c.request())) })
        case .statfs: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.statfs(c.request())) })
        case .getxattr: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.getxattr(c.request())) })
        case .listxattr: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.listxattr(c.request())) })
        case .mknod: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.mknod(c.request())) })
        case .mkdir: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.mkdir(c.request())) })
        case .symlink: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.symlink(c.request())) })
        case .link: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.link(c.request())) })
        case .unlink:
            return Route(.loopThenWorker, .backend { b, c in c.reply(try b.unlink(c.request(), directory: false, c.waiting)) })
        case .rmdir:
            return Route(.loopThenWorker, .backend { b, c in c.reply(try b.unlink(c.request(), directory: true, c.waiting)) })
        // On the loop when they free little on tmpfs or a local disk (a big file's blocks: worker).
        case .rename: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.rename(c.request(), c.waiting)) })
        case .setattr:
            return Route(.loopThenWorker, .backend { b, c in c.reply(try b.setattr(c.request(), c.handles, c.waiting)) })
        case .open: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.open(c.request(), c.handles, c.waiting)) })
        case .openRead:
            return Route(.loopThenWorker, .backend { b, c in c.reply(try b.openRead(c.request(), c.handles, c.waiting)) })
        case .lookupOpen:
            return Route(.loopThenWorker, .backend { b, c in c.reply(try b.lookupOpen(c.request(), c.handles, c.waiting)) })
        case .create: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.create(c.request(), c.handles, c.waiting)) })
        case .opendir: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.opendir(c.request(), c.handles)) })
        case .readdir: return Route(.loopThenWorker, .backend { b, c in try b.readdir(c.request(), c.handles, id: c.id) })
        case .lseek: return Route(.loopThenWorker, .backend { b, c in c.reply(try b.lseek(c.request(), c.handles)) })
        // What may block for long.
        case .mount: return Route(.worker, .backend { b, c in c.reply(try b.mount(c.request())) })
        case .fsync: return Route(.worker, .backend { b, c in c.reply(try b.fsync(c.request(), c.handles)) })
        case .fallocate: return Route(.worker, .backend { b, c in c.reply(try b.fallocate(c.request(), c.handles)) })
        case .setxattr: return Route(.worker, .backend { b, c in c.reply(try b.setxattr(c.request())) })
        case .removexattr: return Route(.worker, .backend { b, c in c.reply(try b.removexattr(c.request())) })
        case .hostMount: return Route(.worker, .backend { b, c in c.reply(try b.hostMount(c.request(), logger: c.logger)) })
        case .hostUmount: return Route(.worker, .backend { b, c in c.reply(try b.hostUmount(c.request(), logger: c.logger)) })
        // Events a client receives or sends on a channel, never as a request here.
        case .pollReady, .sockIncoming, .rexecData, .rexecCredit, .rexecSignal, .rexecWinsize, .rexecExit:
            return Route(.loop, .refuse(ENOSYS))
        }
    }

    /// `route(for:)` by raw opcode, looked up per frame without a switch or an allocation.
    static let table: [Route] = {
        let top = Int(Opcode.allCases.map(\.rawValue).max()!)
        return (0...top).map { raw in Opcode(rawValue: UInt16(raw)).map(route(for:)) ?? unknown }
    }()
    static let unknown = Route(.loop, .refuse(ENOSYS))

    static func route(_ opcode: UInt16) -> Route {
        Int(opcode) < table.count ? table[Int(opcode)] : unknown
    }
}
