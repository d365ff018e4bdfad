// Surviving a lost connection (server restart, network cut, reset): a background thread
// redials dead connections with backoff, redoes the handshake and MOUNT (docs/client.md,
// "Faults"). Callers waiting for a live connection and what they resend: SessionCall.swift.
#if canImport(Glibc)
import Glibc
#endif
import Logging
import QtfsProtocol
import QtfsSystem

/// NFS-style hard/soft behaviour when the server does not answer.
public struct RetryPolicy: Sendable, Equatable {
    /// Seconds an operation may wait for its answer (including reconnects); nil: forever.
    public var timeout: Double?
    public static let hard = RetryPolicy(timeout: nil)
    public static func soft(_ seconds: Double) -> RetryPolicy { RetryPolicy(timeout: seconds) }
}

extension Session {
    /// Redials every dead connection once; true when all are alive.
    func reviveDead() -> Bool {
        let w = Waiter.current()   // the reconnect thread's: HELLO and MOUNT must not hang
        w.deadline = Clock.now() + 2 * Reconnector.dialTimeout
        defer { w.deadline = nil }
        var allAlive = true
        for (i, old) in conns.enumerated() where !old.isAlive {
            dialing.store(i, ordering: .relaxed)
            defer { dialing.store(-1, ordering: .relaxed) }
            do {
                let c = try Session.connect(address, clientName: clientName, key: key, timeout: Reconnector.dialTimeout, logger: logger)
                let m = try Session.mount(c, hostPath: hostPath, caller: mountCaller)
                if m.export != export {
                    logger.warning("\(address) now numbers export \(hostPath) \(m.export) (was \(export)); following it")
                    adoptExport(m.export)
                }
                replace(i, with: c)
            } catch {
                allAlive = false
                reconnector.note(failure: error)
            }
        }
        return allAlive
    }
}

/// The thread that brings dead connections back: woken by a connection's death, it
/// redials with exponential backoff (0.1 s doubling to 2 s) until all are alive again.
final class Reconnector: @unchecked Sendable {
    static let dialTimeout = 5.0
    private weak var session: Session?   // the thread stops once it is gone
    private let address: ServerAddress
    private let logger: Logger
    private let lock = Lock()
    private let cond = Condition()
    private var wanted = false, stopped = false, started = false   // protected by lock
    private var outageStart: Double?, lastError = ""                // reconnect thread only

    init(_ s: Session) {
        session = s
        address = s.address
        logger = s.logger
    }

    /// A connection died (or a caller found none alive): start reconnecting.
    func wake() {
        lock.withLock {
            if stopped { return }
            wanted = true
            if !started { started = true; startThread() }
            cond.signal()
        }
    }

    func stop() { lock.withLock { stopped = true; cond.signal() } }

    func note(failure: Error) {
        let text = (failure as? ConnectError)?.description ?? errnoName(failure)
        if text != lastError { logger.warning("reconnect to \(address) failed: \(text); retrying") }
        lastError = text
    }

    private func startThread() {
        // Out of threads: no reconnection, and requests fail as on a dead connection.
        _ = try? Threads.start { [self] in loop() }
    }

    private func loop() {
        while let _ = nextRound() {
            var delay = 0.1
            outageStart = Clock.now()
            logger.warning("lost a connection to \(address); reconnecting")
            while !(session?.reviveDead() ?? true) {
                if isStopped { return }
                var ts = timespec(tv_sec: Int(delay), tv_nsec: Int((delay - delay.rounded(.down)) * 1e9))
                nanosleep(&ts, nil)
                delay = min(delay * 2, 2)
            }
            let took = Clock.now() - (outageStart ?? Clock.now())
            if isStopped || session == nil { return }
            logger.warning("reconnected to \(address) after \(Int(took * 1000)) ms")
            lastError = ""
        }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    /// Blocks until a reconnect is wanted; nil once stopped.
    private func nextRound() -> Void? {
        lock.lock()
        defer { lock.unlock() }
        while !wanted && !stopped { cond.wait(lock) }
        if stopped { return nil }
        wanted = false
        return ()
    }
}
