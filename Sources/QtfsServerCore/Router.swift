// Following the routing table (Routes.swift) for one request: on the loop, what happens to
// it; on a worker, its answer. Backend errors become error frames here. The engine acts on
// the outcome (EngineRouting.swift); unit tests drive this without an engine.
import Glibc
import Logging
import QtfsProtocol
import QtfsSystem

/// A request handed from the event loop to a worker.
struct Job: @unchecked Sendable {
    let conn: UInt64
    let opcode: UInt16
    let id: UInt64
    let payload: [UInt8]
    let handles: HandleTable
}

struct Router: @unchecked Sendable {
    let backend: any FileBackend
    let logger: Logger

    /// What the loop does with a request.
    enum Step {
        /// The engine runs this handler, which answers itself.
        case engine(EngineHandler)
        /// Answered on the loop: send this frame.
        case answered([UInt8])
        /// Hand it to a worker (`onWorker`).
        case toWorker
        /// A fifo OPEN waits on the loop for the fifo's other end (Fifos.swift).
        case waitForFifo(FifoMustWait)
    }

    /// `conn`: the connection's id and handle table.
    func onLoop(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer, conn: UInt64, _ handles: HandleTable) -> Step {
        let route = Router.route(h.opcode)
        switch route.handler {
        case .engine(let run): return .engine(run)
        case .refuse(let errno): return .answered(FrameHeader.errorFrame(opcode: h.opcode, id: h.id, errno: errno))
        case .backend(let run):
            guard route.placement == .loopThenWorker, let op = Opcode(rawValue: h.opcode) else { return .toWorker }
            let call = BackendCall(opcode: op, id: h.id, conn: conn, payload: payload, handles: handles,
                                   waiting: .mustNotWait, logger: logger)
            do {
                return .answered(try answer(run, call))
            } catch is WouldWait {
                return .toWorker
            } catch let wait as FifoMustWait {
                return .waitForFifo(wait)
            } catch {
                return .answered(FrameHeader.errorFrame(opcode: h.opcode, id: h.id, errno: EIO))
            }
        }
    }

    /// The answer to a request handed to a worker: there it may wait.
    func onWorker(_ job: Job) -> [UInt8] {
        guard case .backend(let run) = Router.route(job.opcode).handler, let op = Opcode(rawValue: job.opcode) else {
            return FrameHeader.errorFrame(opcode: job.opcode, id: job.id, errno: ENOSYS)
        }
        return job.payload.withUnsafeBytes { payload in
            let call = BackendCall(opcode: op, id: job.id, conn: job.conn, payload: payload, handles: job.handles,
                                   waiting: .mayWait, logger: logger)
            do {
                return try answer(run, call)
            } catch {
                return FrameHeader.errorFrame(opcode: job.opcode, id: job.id, errno: EIO)
            }
        }
    }

    /// Runs `run`; an errno or a bad payload becomes an error frame. Rethrows what asks the
    /// caller to wait (`WouldWait`, `FifoMustWait`).
    private func answer(_ run: BackendHandler, _ call: BackendCall) throws -> [UInt8] {
        do {
            return try run(backend, call)
        } catch let e as Errno {
            if e.code == EMFILE {   // the connection's max_handles, or the server's own fd limit
                logger.warning("too many open files", metadata: ["conn.id": "\(call.conn)", "req.op": "\(call.opcode.rawValue)"])
            }
            return FrameHeader.errorFrame(opcode: call.opcode.rawValue, id: call.id, errno: e.code)
        } catch let e as WireError {
            logger.debug("bad payload", metadata: ["req.op": "\(call.opcode.rawValue)", "req.id": "\(call.id)", "error": "\(e)"])
            return FrameHeader.errorFrame(opcode: call.opcode.rawValue, id: call.id, errno: e.errno)
        }
    }
}
