// Remote exec, the loop's part: a REXEC_START takes its connection off the loop and
// gives it to a thread of its own (RexecSession), which starts the program and carries
// its streams. Nothing here waits for a child.
import Glibc
import Logging
import QtfsAuth
import QtfsProtocol
import QtfsRexec
import QtfsSystem

extension Engine {
    func rexecStart(_ c: Connection, _ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let whitelist = config.rexecWhitelist else {
            logger.warning("remote exec refused: it is off (no rexec_whitelist)", metadata: ["conn.peer": "\(c.peer)"])
            let off = RexecStartReply(result: .notAllowed, errno: UInt32(EPERM),
                message: "remote exec is off on the host: start qtfs-server with --rexec-whitelist /etc/rexec/whitelist (or rexec_whitelist in its config)")
            return reply(c, h, .rexecStart, off)
        }
        let request = Array(payload)
        let peer = c.peer
        let squash = config.exports.contains { $0.rootSquash }
        let sealed = gatekeeper.sealing(of: c)
        guard let (net, leftover) = detach(c) else { return }
        let job = RexecStart(net: net, received: leftover, sealing: sealed, requestId: h.id, payload: request, peer: "\(peer)",
                             programs: RexecPrograms(whitelistFile: RexecPrograms.realPath(whitelist) ?? whitelist), squashRoot: squash, logger: logger)
        do {
            try Threads.start { job.run() }
        } catch {
            logger.error("remote exec: cannot start a thread: \(error)", metadata: ["conn.peer": "\(peer)"])
            close(net)
        }
    }
}

/// The start of one remote program, on its own thread: decode, resolve, spawn, answer,
/// then the session loop.
struct RexecStart: @unchecked Sendable {
    let net: Int32
    let received: [UInt8]
    /// The connection's sealer and opener (nil: plaintext); the session's frames go on with them.
    let sealing: (sealer: FrameSealer, opener: FrameOpener)?
    let requestId: UInt64
    let payload: [UInt8]
    let peer: String
    let programs: RexecPrograms
    let squashRoot: Bool
    let logger: Logger

    func run() {
        let channel = FrameChannel(fd: net, received: received, sealing: sealing)
        let req: RexecStartRequest
        do { req = try RexecStartRequest.decode(payload) } catch {
            logger.warning("remote exec: bad REXEC_START: \(error)", metadata: ["conn.peer": "\(peer)"])
            channel.sendRaw(FrameHeader.errorFrame(opcode: Opcode.rexecStart.rawValue, id: requestId,
                                                   errno: (error as? WireError)?.errno ?? EPROTO))
            return channel.finish(within: 5)
        }
        let name = String(decoding: req.argv[0], as: UTF8.self)
        let started = programs.resolve(name, cwd: String(decoding: req.cwd, as: UTF8.self)).flatMap { program in
            RexecSpawn.start(req, program: program, squashRoot: squashRoot).map { ($0, program) }
        }
        switch started {
        case .failure(let refusal):
            logger.warning("remote exec refused: \(refusal.message)", metadata: ["conn.peer": "\(peer)", "rexec.uid": "\(req.caller.uid)"])
            answer(channel, refusal)
            channel.finish(within: 5)
        case .success(let (child, program)):
            let info = RexecRegistry.add(peer: peer, dpuPid: req.caller.pid, hostPid: child.pid, program: program, uid: req.caller.uid)
            defer { RexecRegistry.remove(info) }
            logger.info("remote exec: started", metadata: info.metadata)
            answer(channel, RexecStartReply(result: .started, hostPid: UInt32(child.pid)))
            RexecSession(channel: channel, child: child, logger: logger, info: info).run()
        }
    }

    private func answer(_ channel: FrameChannel, _ reply: RexecStartReply) {
        channel.sendRaw(FrameHeader.frame(kind: .response, opcode: .rexecStart, id: requestId, payload: reply))
    }
}
