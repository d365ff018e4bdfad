// The mount's stream channel (dialled on the first fifo open, again after it died) and
// the open fifos by server handle, for POLL_READY events.
import CFuse
import Logging
import QtfsClient
import QtfsProtocol

final class FifoRegistry: @unchecked Sendable {
    private let lock = Lock()
    private var channel: StreamChannel?
    private var files: [UInt64: [ObjectIdentifier: FifoFile]] = [:]   // server handle -> open files

    func current() -> StreamChannel? { lock.withLock { channel } }

    /// The live channel, dialled if there is none. Nil (logged) if the server is unreachable.
    func channel(_ server: ServerAddress, logger: Logger) -> StreamChannel? {
        lock.lock(); defer { lock.unlock() }
        if let c = channel, c.isAlive { return c }
        do {
            let c = try StreamChannel(server, logger: logger)
            c.onEvent = { [weak self] h, payload in self?.event(h, payload) }
            channel = c
            return c
        } catch {
            logger.error("fifo stream connection to \(server) failed: \(error)")
            return nil
        }
    }

    func add(_ f: FifoFile) { lock.withLock { files[f.handle, default: [:]][ObjectIdentifier(f)] = f } }
    func remove(_ f: FifoFile) { lock.withLock { files[f.handle]?[ObjectIdentifier(f)] = nil } }

    private func event(_ h: FrameHeader, _ payload: [UInt8]) {
        guard h.opcode == Opcode.pollReady.rawValue, let e = try? PollReadyEvent.decode(payload) else { return }
        let targets = lock.withLock { Array(files[e.handle]?.values ?? [:].values) }
        targets.forEach { $0.notifyPoll() }
    }
}

extension FS {
    func streamChannel() -> StreamChannel? { fifos.channel(opts.server, logger: logger) }
    func currentStreamChannel() -> StreamChannel? { fifos.current() }
}
