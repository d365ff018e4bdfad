// The control endpoint of one process: a unix socket (mode 0600) served by its own
// thread, off the io_uring loop and the FUSE threads. Each client gets one request and
// one answer, bounded in size and in time (2 s for both together), so a stuck or
// hostile control client delays only other control clients, never the file service.
import Glibc
import Logging
import QtfsSystem

public final class ControlServer: @unchecked Sendable {
    public let path: String
    private let target: ControlTarget
    private let logger: Logger
    private let fd: Int32
    private var thread: pthread_t?

    /// Creates the socket ROLE-PID.sock in `directory` and starts serving it.
    public init(target: ControlTarget, directory: String = SocketDirectory.path, logger: Logger) throws {
        self.target = target
        self.logger = logger
        try SocketDirectory.ensure(directory)
        for file in SocketDirectory.removeStale(in: directory) {
            logger.info("removed the control socket of a process that is gone", metadata: ["control.socket": "\(directory)/\(file)"])
        }
        path = SocketDirectory.socketPath(role: target.role, in: directory)
        unlink(path)   // left by an earlier process with our pid
        fd = try StreamSocket.make()
        do {
            try bindAndListen()
        } catch {
            close(fd)
            throw error
        }
        do {
            thread = try Threads.start(detached: false) { [self] in serve() }
        } catch {
            close(fd)
            unlink(path)
            throw ControlError("cannot start the control thread: \(error)")
        }
        logger.debug("control endpoint ready", metadata: ["control.socket": "\(path)"])
    }

    private func bindAndListen() throws {
        let bound = StreamSocket.withAddress(path) { bind(fd, $0, $1) }
        guard let bound else { throw ControlError("control socket path \(path) is too long; set a shorter \(SocketDirectory.environmentKey)") }
        guard bound == 0 else { throw ControlError("cannot create control socket \(path): \(String(cString: strerror(errno)))") }
        guard chmod(path, 0o600) == 0, listen(fd, 16) == 0 else {
            let e = errno
            unlink(path)
            throw ControlError("cannot set up control socket \(path): \(String(cString: strerror(e)))")
        }
    }

    /// Stops serving and removes the socket file.
    public func stop() {
        guard let t = thread else { return }
        thread = nil
        Glibc.shutdown(fd, Int32(SHUT_RDWR))   // wakes the blocked accept
        pthread_join(t, nil)
        close(fd)
        unlink(path)
    }

    deinit { stop() }

    private func serve() { StreamSocket.acceptLoop(fd, handle) }

    private func handle(_ c: Int32) {
        guard let uid = StreamSocket.peerUid(c), uid == 0 || uid == geteuid() else {
            logger.warning("control request from another user refused")
            _ = StreamSocket.writeAll(c, ControlServer.encode(.failure("permission denied: only root may use the qtfs control socket")))
            return
        }
        let deadline = Deadline(seconds: ControlServer.clientSeconds)
        guard let bytes = StreamSocket.readMessage(c, deadline: deadline) else {
            logger.debug("control client sent nothing usable (timeout, oversize or error)")
            return
        }
        let answer: ControlResponse
        if let req = try? JSONValue.parse(bytes).decode(ControlRequest.self) {
            answer = target.answer(req)
            if req.command == .setLogLevel || req.command == .clear || req.command.isWhitelistChange {
                logger.notice("control command", metadata: ["control.command": "\(req.command.rawValue)",
                                                             "control.ok": "\(answer.ok)", "log.level": "\(answer.logLevel ?? "-")"])
            }
        } else {
            answer = .failure("malformed control request; qtinfo and this component may be different versions")
        }
        _ = StreamSocket.writeAll(c, ControlServer.encode(answer), deadline: deadline)
    }

    /// The most one control client may take: request in, answer out.
    static let clientSeconds = 2.0

    static func encode(_ r: ControlResponse) -> [UInt8] {
        let text = (try? JSONValue(encoding: r).text) ?? #"{"error":"cannot encode the answer","ok":false}"#
        return Array(text.utf8) + [UInt8(ascii: "\n")]
    }
}

extension ControlCommand {
    var isWhitelistChange: Bool { self == .whitelistAdd || self == .whitelistRemove || self == .whitelistSave }
}
