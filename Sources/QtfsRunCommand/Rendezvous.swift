// qtfs-run's private directory of unix sockets (mode 0700, removed at exit): the meeting
// points that join a caller's own socket to a relay, and the private names that a caller's
// bound socket really listens at while the host listens at the qtfs path for it.
import Glibc
import QtfsClient

final class Rendezvous: @unchecked Sendable {
    let directory: String
    private let lock = Lock()
    private var counter = 0
    private var serves: [SocketServe] = []     // host listeners, alive for the run

    init() throws {
        var template = Array("/run/qtfs-run.XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else {
            throw Errno.current(call: "creating a private directory under /run (qtfs-run needs root)")
        }
        directory = String(cString: template)
    }

    /// Connects `socket` to a fresh listener of ours; returns our end of that connection.
    func join(_ socket: CallerSocket) throws -> Int32 {
        let path = nextPath("c")
        let listener = try listening(socket.type, at: path)
        defer { Glibc.close(listener); unlink(path) }
        let connected = UnixAddress.connect(socket.fd, path)
        guard connected == 0 || errno == EINPROGRESS else { throw Errno.current(call: "connect to the relay") }
        let mine = try sys("accept the caller's socket") { accept(listener, nil, nil) }
        _ = fcntl(mine, F_SETFD, FD_CLOEXEC)
        return mine
    }

    /// Binds `socket` to a private path; returns it.
    func bindPrivately(_ socket: CallerSocket) throws -> String {
        let path = nextPath("l")
        guard UnixAddress.bind(socket.fd, path) == 0 else { throw Errno.current(call: "bind \(path)") }
        return path
    }

    func keep(_ serve: SocketServe) { lock.withLock { serves.append(serve) } }

    /// Stops the host listeners and removes the directory.
    func close() {
        LocalListeners.removeAll(in: directory)
        for s in lock.withLock({ serves }) { s.stop() }
        if let d = opendir(directory) {
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { unlink(directory + "/" + name) }
            }
            closedir(d)
        }
        rmdir(directory)
    }

    private func nextPath(_ kind: String) -> String {
        let n = lock.withLock { counter += 1; return counter }
        return "\(directory)/\(kind)\(n)"
    }

    private func listening(_ type: Int32, at path: String) throws -> Int32 {
        let fd = try sys("socket") { socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
        guard UnixAddress.bind(fd, path) == 0, listen(fd, 1) == 0 else {
            let e = Errno.current(call: "listen at \(path)")
            Glibc.close(fd)
            throw e
        }
        return fd
    }
}
