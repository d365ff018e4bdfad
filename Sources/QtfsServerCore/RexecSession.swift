// One remote program, on its own thread: REXEC_START checked and the program started,
// then a poll loop that forwards its stdio both ways under credit, delivers signals and
// the window size, and reports its exit. If the DPU side goes away first, the program's
// process group is killed: no orphan stays on the host (docs/rexec.md).
import Glibc
internal import CQtfsSys
import Logging
import QtfsProtocol
import QtfsRexec
import QtfsSystem

final class RexecSession {
    /// After the program exited, how long descendants that kept its stdout or stderr
    /// open may still send before the exit is reported and the streams are cut.
    static let outputGrace = 0.5

    let channel: FrameChannel
    let child: RexecChild
    let logger: Logger
    let info: RexecRegistry.Entry
    let stdin: IncomingStream
    let outputs: [OutgoingStream]
    private var exit: RexecExit?
    private var exitedAt = 0.0

    init(channel: FrameChannel, child: RexecChild, logger: Logger, info: RexecRegistry.Entry) {
        self.channel = channel; self.child = child; self.logger = logger; self.info = info
        stdin = IncomingStream(fd: child.stdin, stream: Rexec.stdin)
        var outs = [OutgoingStream(fd: child.stdout, stream: Rexec.stdout)]
        if let e = child.stderr { outs.append(OutgoingStream(fd: e, stream: Rexec.stderr)) }
        outputs = outs
    }

    deinit {
        stdin.closeFd()
        outputs.forEach { close($0.fd) }
        close(child.pidfd)
    }

    /// Runs until the program's exit is reported or the DPU side is gone.
    func run() {
        while true {
            var fds = pollSet()
            let timeout = exit == nil ? -1 : MonotonicClock.pollTimeout(until: exitedAt + Self.outputGrace)
            guard (try? sys("poll") { poll(&fds, nfds_t(fds.count), timeout) }) != nil else { return abandon("poll failed") }
            guard serviceNetwork(fds[0].revents) else { return }
            for (i, out) in outputs.enumerated() where fds[1 + i].revents != 0 { out.pump(channel) }
            info.bytesOut.set(outputs.reduce(0) { $0 + $1.bytes })
            if fds[fds.count - 2].revents != 0 { stdin.pump(channel) }
            if exit == nil && fds[fds.count - 1].revents != 0 { reap() }
            if exit != nil && (outputs.allSatisfy(\.ended) || MonotonicClock.now() >= exitedAt + Self.outputGrace) {
                return finish()
            }
            if (try? channel.flush()) == nil { return abandon("send failed") }
        }
    }

    /// net, the outputs (polled only while they may send), stdin (while it has data),
    /// the pidfd (last).
    private func pollSet() -> [pollfd] {
        var fds = [pollfd(fd: channel.fd, events: Int16(POLLIN) | (channel.pendingOutput > 0 ? Int16(POLLOUT) : 0), revents: 0)]
        for out in outputs { fds.append(pollfd(fd: out.wantsInput(channel) ? out.fd : -1, events: Int16(POLLIN), revents: 0)) }
        fds.append(pollfd(fd: stdin.wantsOutput ? stdin.fd : -1, events: Int16(POLLOUT), revents: 0))
        fds.append(pollfd(fd: exit == nil ? child.pidfd : -1, events: Int16(POLLIN), revents: 0))
        return fds
    }

    /// Reads and handles the DPU's frames; false when the session is over.
    private func serviceNetwork(_ revents: Int16) -> Bool {
        guard revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 else { return true }
        let open: Bool
        do { open = try channel.receive() } catch { abandon("connection failed: \(error)"); return false }
        do {
            while let (h, payload) = try channel.nextFrame() { try handle(h, payload) }
        } catch {
            abandon("bad frame from the DPU: \(error)")
            return false
        }
        if !open { abandon("connection closed by the DPU"); return false }
        return true
    }

    private func handle(_ h: FrameHeader, _ payload: [UInt8]) throws {
        guard h.kind == .event else { throw WireError.invalid(field: "kind") }
        switch Opcode(rawValue: h.opcode) {
        case .rexecData:
            let d = try RexecData.decode(payload)
            guard d.stream == Rexec.stdin, stdin.accept(d.data, channel) else { throw WireError.invalid(field: "stdin window") }
            info.bytesIn.add(UInt64(d.data.count))
        case .rexecCredit:
            let c = try RexecCredit.decode(payload)
            guard let out = outputs.first(where: { $0.stream == c.stream }), out.credited(c.bytes) else {
                throw WireError.invalid(field: "credit")
            }
        case .rexecSignal:
            let s = try RexecSignal.decode(payload)
            guard s.signal >= 1 && s.signal <= 64 else { throw WireError.invalid(field: "signal") }
            if exit == nil { kill(child.pid, Int32(s.signal)) }
        case .rexecWinsize:
            let w = try RexecWinsize.decode(payload)
            if child.stderr == nil { _ = qtfs_set_winsize(child.stdin, w.rows, w.cols) }
        default:
            throw WireError.invalid(field: "opcode \(h.opcode)")
        }
    }

    private func reap() {
        var status: Int32 = 0
        guard waitpid(child.pid, &status, WNOHANG) == child.pid else { return }
        let signaled = status & 0x7f != 0
        exit = RexecExit(signaled: signaled, code: UInt32(signaled ? status & 0x7f : (status >> 8) & 0xff),
                         coreDumped: status & 0x80 != 0)
        exitedAt = MonotonicClock.now()
        // Whatever the program wrote before it ended is in the pipes now: take it all.
        for out in outputs { while !out.ended && out.credit > 0 && readable(out.fd) { out.pump(channel) } }
    }

    private func readable(_ fd: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0
    }

    private func finish() {
        outputs.forEach { $0.finish(channel) }
        channel.send(.rexecExit, exit!)
        channel.finish(within: 5)
        logger.info("remote exec: ended", metadata: info.metadata.merging([
            "exit": "\(exit!.signaled ? "signal \(exit!.code)" : "\(exit!.code)")",
            "bytes.out": "\(outputs.reduce(0) { $0 + $1.bytes })", "bytes.in": "\(stdin.bytes)"]) { a, _ in a })
    }

    /// The DPU side is gone (or broke the protocol): the program and its process group die.
    private func abandon(_ why: String) {
        if exit == nil {
            kill(-child.pid, SIGKILL)
            kill(child.pid, SIGKILL)
            var status: Int32 = 0
            _ = try? sys("waitpid") { waitpid(child.pid, &status, 0) }
            logger.warning("remote exec: \(why); killed the program's process group", metadata: info.metadata)
        } else {
            logger.info("remote exec: \(why) after the program ended", metadata: info.metadata)
        }
    }
}
