// Where qtinfo finds qtfs components. A source discovers components; a component answers
// control requests. The control sockets of qtfs-server and qtfs-fuse are one source; the
// kernel module (generic netlink) plugs in as another conformer of the same two protocols.
import Glibc
import QtfsControl

/// One qtfs component: a server, a FUSE mount, the kernel module.
protocol QtfsComponent {
    /// Unique on this machine, e.g. "server-1234", "fuse-5678", "kmod".
    var name: String { get }
    /// "server", "fuse" or "kmod".
    var role: String { get }
    /// How it is reached (a socket path, "netlink:qtfs").
    var address: String { get }
    /// Sends one control request. Throws a one-line error saying what to do.
    func send(_ request: ControlRequest) throws -> ControlResponse
}

protocol ComponentSource {
    func discover() throws -> [any QtfsComponent]
}

extension QtfsComponent {
    /// Sends `request`; a refusal (ok false) becomes a thrown error naming the component.
    func perform(_ request: ControlRequest) throws -> ControlResponse {
        let r = try send(request)
        guard r.ok else { throw QtinfoError("\(name): \(r.error ?? "request refused")") }
        return r
    }
}

/// The control sockets in one directory (/run/qtfs unless told otherwise).
struct SocketSource: ComponentSource {
    let directory: String

    func discover() throws -> [any QtfsComponent] {
        guard let files = SocketDirectory.entries(in: directory) else {
            if errno == ENOENT { return [] }   // nothing has ever run here
            throw QtinfoError("cannot read \(directory): \(String(cString: strerror(errno))); run qtinfo as root")
        }
        return files.sorted().compactMap { file in
            guard let name = SocketDirectory.componentName(ofSocket: file) else { return nil }
            return SocketComponent(name: name, address: "\(directory)/\(file)")
        }
    }
}

struct SocketComponent: QtfsComponent {
    let name: String
    let address: String
    var role: String { String(name[..<(name.lastIndex(of: "-") ?? name.endIndex)]) }

    init(name: String, address: String) { self.name = name; self.address = address }

    /// A socket named on the command line.
    init(socket path: String) {
        let file = SocketDirectory.fileName(path)
        self.init(name: SocketDirectory.componentName(ofSocket: file) ?? file, address: path)
    }

    func send(_ request: ControlRequest) throws -> ControlResponse {
        do {
            return try ControlClient.call(socket: address, request)
        } catch let e as ControlError {
            throw QtinfoError(e.description)
        }
    }
}

/// An error for the operator: one line, what went wrong and what to do. qtinfo exits 1.
struct QtinfoError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
