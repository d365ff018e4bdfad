import QtfsProtocol

/// Remote exec's messages (docs/protocol.md, "Remote exec"): Tests/Vectors/rexec/*.vec, checked by
/// the Swift codec only (the kernel module does not speak remote exec).
enum RexecSamples {
    static let start = RexecStartRequest(
        caller: Samples.alice, flags: RexecStartRequest.flagPty, umask: 0o022, rows: 24, cols: 80,
        cwd: Array("/run/bundle".utf8), argv: [Array("/usr/bin/shim".utf8), Array("-id".utf8), Array("c1".utf8)],
        env: [Array("TTRPC_ADDRESS=/run/containerd/containerd.sock.ttrpc".utf8)],
        files: [RexecFile(fd: 5, flags: 0o2, offset: 4096, path: Array("/var/log/shim.log".utf8))])

    static let frames: [Sample] = [
        Sample("rexec/start.request", .request, .rexecStart, id: 1, start),
        Sample("rexec/start.response", .response, .rexecStart, id: 1, RexecStartReply(result: .started, hostPid: 31337)),
        Sample("rexec/refused.response", .response, .rexecStart, id: 1,
               RexecStartReply(result: .notAllowed, errno: 1, message: "/usr/bin/ls may not be run from the DPU")),
        Sample("rexec/data.event", .event, .rexecData, id: 0, RexecData(stream: Rexec.stdout, data: Array("hello\n".utf8))),
        Sample("rexec/eof.event", .event, .rexecData, id: 0, RexecData(stream: Rexec.stdin, data: [])),
        Sample("rexec/credit.event", .event, .rexecCredit, id: 0, RexecCredit(stream: Rexec.stdout, bytes: 6)),
        Sample("rexec/signal.event", .event, .rexecSignal, id: 0, RexecSignal(signal: 15)),
        Sample("rexec/winsize.event", .event, .rexecWinsize, id: 0, RexecWinsize(rows: 50, cols: 132)),
        Sample("rexec/exit.event", .event, .rexecExit, id: 0, RexecExit(signaled: true, code: 9)),
    ]
}
