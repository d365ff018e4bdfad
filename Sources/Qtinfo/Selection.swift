// Which components an invocation acts on: all discovered ones, or those named with
// --component (a name, a role, a mount point or a socket path).
import QtfsControl

enum Selection {
    static func choose(_ wanted: [String], from sources: [any ComponentSource],
                       whitelistOnly: Bool) throws -> [any QtfsComponent] {
        let found = try sources.flatMap { try $0.discover() }
        guard !wanted.isEmpty else {
            // Only servers keep a whitelist: do not ask mounts unless named.
            return whitelistOnly ? found.filter { $0.role == "server" } : found
        }
        var chosen: [any QtfsComponent] = []
        for w in wanted {
            for c in try match(w, found) where !chosen.contains(where: { $0.name == c.name }) { chosen.append(c) }
        }
        return chosen
    }

    private static func match(_ w: String, _ found: [any QtfsComponent]) throws -> [any QtfsComponent] {
        if let c = found.first(where: { $0.name == w }) { return [c] }
        let byRole = found.filter { $0.role == w }
        if !byRole.isEmpty { return byRole }
        if w.hasSuffix(".sock") { return [SocketComponent(socket: w)] }
        if w.hasPrefix("/"), let c = mount(at: w, found) { return [c] }
        if ["server", "fuse", "kmod"].contains(w) {
            throw QtinfoError("no \(w) component is running here; run qtinfo alone to list what is")
        }
        throw QtinfoError("unknown component '\(w)'; name one from the list printed by qtinfo alone (server-PID, fuse-PID, a role, a mount point or a socket path)")
    }

    /// The FUSE component serving mount point `path` (asked for its status).
    private static func mount(at path: String, _ found: [any QtfsComponent]) -> (any QtfsComponent)? {
        let want = canonical(path)
        return found.filter { $0.role == "fuse" }.first { c in
            guard let m = try? c.perform(ControlRequest(command: .status)).status?.mountpoint else { return false }
            return canonical(m) == want
        }
    }

    /// `p` with "//", "." and ".." resolved on the string alone. Nothing is looked up on
    /// disk: a stat of the mount point would hang while a hard mount's server is down.
    static func canonical(_ p: String) -> String {
        var parts: [Substring] = []
        for part in p.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }
}
