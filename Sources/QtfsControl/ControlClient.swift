// The caller's end of a control socket: connect, send one request, read one answer, all
// within one deadline (a stopped or hung component costs the caller that long, no more).
// Errors are one line saying what went wrong and what to do.
import Glibc

public enum ControlClient {
    public static func call(socket path: String, _ req: ControlRequest, timeoutSeconds: Double = 5) throws -> ControlResponse {
        let deadline = Deadline(seconds: timeoutSeconds)
        let fd = try StreamSocket.make()
        defer { close(fd) }
        let limit = timeoutSeconds == timeoutSeconds.rounded() ? "\(Int(timeoutSeconds))" : "\(timeoutSeconds)"
        let hung = ControlError("\(path) did not answer within \(limit) s; the component may be hung or stopped (check its log and its process state)")
        guard deadline.arm(fd) else { throw hung }
        let rc = StreamSocket.withAddress(path) { connect(fd, $0, $1) }
        guard let rc else { throw ControlError("control socket path \(path) is too long") }
        if rc != 0 { throw errno == EAGAIN || errno == EINPROGRESS ? hung : connectError(path, errno) }
        guard StreamSocket.writeAll(fd, Array(try JSONValue(encoding: req).text.utf8) + [UInt8(ascii: "\n")], deadline: deadline),
              let bytes = StreamSocket.readMessage(fd, deadline: deadline) else { throw hung }
        do {
            return try JSONValue.parse(bytes).decode(ControlResponse.self)
        } catch {
            throw ControlError("\(path) answered something that is not a qtfs control response; is it a qtfs socket?")
        }
    }

    static func connectError(_ path: String, _ e: Int32) -> ControlError {
        switch e {
        case ENOENT:
            return ControlError("no control socket \(path); the component is not running (run qtinfo alone to list what is)")
        case EACCES, EPERM:
            return ControlError("permission denied on \(path); the control sockets are root's: run qtinfo as root")
        case ECONNREFUSED:
            if let pid = SocketDirectory.goneOwner(ofSocket: SocketDirectory.fileName(path)) {
                return ControlError("stale control socket \(path): process \(pid) is gone (crashed?); remove it with: rm \(path)")
            }
            return ControlError("\(path) refuses connections; the component is stopping or stuck")
        default:
            return ControlError("cannot connect to \(path): \(String(cString: strerror(e)))")
        }
    }
}
