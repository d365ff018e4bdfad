// The DPU side of one remote program: connect and authenticate, REXEC_START, then a poll
// loop carrying stdin to the host and stdout/stderr back, forwarding signals (and the
// window size with -t), until REXEC_EXIT gives the status to exit with.
import CQtfsSys
import Glibc
import QtfsAuth
import QtfsClient
import QtfsProtocol
import QtfsRexec

/// How qtfs-rexec ends: the program's exit, or a failure of its own.
enum RexecOutcome {
    case exited(RexecExit)
    case failed(status: Int32, message: String)
}

final class RexecRun {
    /// Signals qtfs-rexec forwards to the host program (WINCH becomes a window size with -t).
    static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT]

    let options: RexecOptions
    let channel: FrameChannel
    let signals: Int32
    let stdin: OutgoingStream?
    let outputs: [IncomingStream]

    /// Connects, authenticates and blocks the forwarded signals (before any thread starts).
    init(_ options: RexecOptions, signals: Int32) throws {
        self.options = options
        self.signals = signals
        let key = try options.keyFile.map { try AuthKey.load(path: $0) }
        let conn = Connection(socket: try Self.dial(options.server))
        try conn.handshake(clientName: "qtfs-rexec", key: key, server: "qtfs-server at \(options.server)", crypt: options.crypt)
        let fd = dup(conn.fd)   // `conn` closes its own fd when it goes
        guard fd >= 0 else { throw Errno.current(call: "dup") }
        // Sealed: REXEC_START and every event after it go on with the handshake's counters.
        channel = FrameChannel(fd: fd, sealing: conn.sealing.map { ($0.sealer, $0.opener) })
        stdin = options.noStdin ? nil : OutgoingStream(fd: 0, stream: Rexec.stdin)
        outputs = [IncomingStream(fd: 1, stream: Rexec.stdout), IncomingStream(fd: 2, stream: Rexec.stderr)]
    }

    /// The TCP connection; a refused one says how to start a server with remote exec on.
    private static func dial(_ server: ServerAddress) throws -> Int32 {
        do {
            return try Dial.tcp(host: server.host, port: server.port)
        } catch let e as ConnectError where e.errno == ECONNREFUSED {
            throw RexecFailure(status: 255, "cannot connect to \(server): connection refused — is qtfs-server running there? start it on the host with `qtfs-server --port \(server.port) --key /etc/qtfs/qtfs.key --export / --rexec-whitelist /etc/rexec/whitelist`")
        }
    }

    /// Sends REXEC_START and waits for its answer.
    func start(_ req: RexecStartRequest) throws -> RexecStartReply {
        let frame = FrameHeader.frame(kind: .request, opcode: .rexecStart, id: 1, payload: req)
        guard frame.count - Wire.headerSize <= Wire.maxPayload else {
            throw RexecFailure(status: 126, "argument list and environment too long for one request (\(frame.count) bytes, at most \(Wire.maxPayload)); shorten them or use -i/-u")
        }
        channel.sendRaw(frame)
        channel.drain(within: 30)
        while true {
            var p = pollfd(fd: channel.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, -1)
            let open = try channel.receive()
            if let (h, payload) = try channel.nextFrame() {
                guard h.kind == .response, h.opcode == Opcode.rexecStart.rawValue else {
                    throw RexecFailure(status: 255, "the server answered REXEC_START with opcode \(h.opcode)")
                }
                if h.status != 0 {
                    throw RexecFailure(status: 126, "the host refused the request: \(Errno(Int32(h.status)).text) (does the server support remote exec? it must be this version or newer)")
                }
                return try RexecStartReply.decode(payload)
            }
            if !open { throw RexecFailure(status: 255, "the server closed the connection before starting the program") }
        }
    }

    /// Forwards until the program's exit (or the connection's loss).
    func run(pty: Bool) -> RexecOutcome {
        if options.noStdin { channel.send(.rexecData, RexecData(stream: Rexec.stdin, data: [])) }
        // Events may have come in with START's answer.
        if let outcome = handleBuffered() { return outcome }
        while true {
            var fds = [pollfd(fd: channel.fd, events: Int16(POLLIN) | (channel.pendingOutput > 0 ? Int16(POLLOUT) : 0), revents: 0),
                       pollfd(fd: stdin?.wantsInput(channel) == true ? 0 : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
            do { try sys("poll") { poll(&fds, 3, -1) } } catch { return lost("poll: \((error as? Errno)?.text ?? "\(error)")") }
            if fds[1].revents != 0 { stdin?.pump(channel) }
            if fds[2].revents != 0 { forwardSignals(pty: pty) }
            if fds[0].revents != 0, let outcome = receive() { return outcome }
            if (try? channel.flush()) == nil { return lost("cannot send to the server") }
        }
    }

    /// Reads what arrived and handles it; the outcome once the run is over.
    private func receive() -> RexecOutcome? {
        do {
            let open = try channel.receive()
            if let outcome = handleBuffered() { return outcome }
            return open ? nil : lost("the server closed the connection")
        } catch {
            return lost("\(error)")
        }
    }

    private func handleBuffered() -> RexecOutcome? {
        do {
            while let (h, payload) = try channel.nextFrame() {
                if let exit = try handle(h, payload) { return .exited(exit) }
            }
            return nil
        } catch let e as RexecFailure {
            return .failed(status: e.status, message: e.description)
        } catch let e as SealError {
            return .failed(status: 255, message: Self.tampered(options.server, e))
        } catch {
            return lost("\(error)")
        }
    }

    /// One event from the host; the exit when it is REXEC_EXIT.
    private func handle(_ h: FrameHeader, _ payload: [UInt8]) throws -> RexecExit? {
        switch Opcode(rawValue: h.opcode) {
        case .rexecData:
            let d = try RexecData.decode(payload)
            guard d.stream != Rexec.stdin, outputs[Int(d.stream) - 1].accept(d.data, channel) else {
                throw RexecFailure(status: 255, "the server overran stream \(d.stream)")
            }
            outputs[Int(d.stream) - 1].pump(channel)
        case .rexecCredit:
            let c = try RexecCredit.decode(payload)
            guard c.stream == Rexec.stdin, stdin?.credited(c.bytes) != false else {
                throw RexecFailure(status: 255, "the server sent bad credit")
            }
        case .rexecExit:
            return try RexecExit.decode(payload)
        default:
            throw RexecFailure(status: 255, "unexpected frame from the server (opcode \(h.opcode))")
        }
        return nil
    }

    private func forwardSignals(pty: Bool) {
        while true {
            let sig = qtfs_signalfd_read(signals)
            guard sig > 0 else { return }
            if sig == SIGWINCH && pty {
                var rows: UInt16 = 0, cols: UInt16 = 0
                if qtfs_get_winsize(0, &rows, &cols) == 0 { channel.send(.rexecWinsize, RexecWinsize(rows: rows, cols: cols)) }
            } else {
                channel.send(.rexecSignal, RexecSignal(signal: UInt32(sig)))
            }
        }
    }

    /// A sealed frame from the server that failed to open: someone on the path altered,
    /// dropped or injected frames.
    static func tampered(_ server: ServerAddress, _ e: SealError) -> String {
        "the connection to \(server) was tampered with: \(e); qtfs-rexec closed it and the host kills the program — check the network path between this machine and the host"
    }

    private func lost(_ why: String) -> RexecOutcome {
        .failed(status: 255, message: "lost the connection to \(options.server) (\(why)); the host killed the program")
    }
}

/// A failure qtfs-rexec reports itself, with the exit status to use.
struct RexecFailure: Error, CustomStringConvertible {
    let status: Int32
    let description: String
    init(status: Int32, _ description: String) { self.status = status; self.description = description }
}
