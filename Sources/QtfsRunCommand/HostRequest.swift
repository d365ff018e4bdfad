// A host mount or umount asked of qtfs-server on a connection of its own (they are rare;
// each one dials, authenticates and asks once). The answer is the host's errno.
import Glibc
import QtfsClient
import QtfsProtocol

enum HostRequest {
    /// The host's errno for `op` (0: done). A server that cannot be reached gives EIO,
    /// after a log line that says why.
    static func send(_ server: ServerAddress, _ op: Opcode, _ body: (inout WireWriter) -> Void) -> Int32 {
        do {
            let conn = Connection(socket: try Dial.tcp(host: server.host, port: server.port))
            try conn.handshake(clientName: "qtfs-run", server: "qtfs-server at \(server)")
            return conn.call(op, body).status
        } catch {
            Log.error("cannot reach qtfs-server at \(server): \(error); the call fails with EIO")
            return EIO
        }
    }
}
