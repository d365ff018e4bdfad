// What qtinfo prints: tables for people, one JSON document for programs.
import FoundationEssentials   // pretty-printed JSON; qtinfo links it anyway through swift-argument-parser
import QtfsControl

enum JSONOutput {
    struct Document: Codable { var components: [ComponentResult] }

    static func render(_ results: [ComponentResult]) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? enc.encode(Document(components: results))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

enum TextOutput {
    static func render(_ results: [ComponentResult], plan: Plan, directory: String) -> String {
        if plan.listOnly { return list(results, directory: directory) }
        var out = ""
        for r in results where r.error == nil || r.status != nil || r.stats != nil {
            if let l = r.logLevel { out += "\(r.name): log level \(l)\n" }
            if r.cleared == true { out += "\(r.name): statistics cleared\n" }
            if let w = r.whitelist { out += whitelist(r.name, w) }
            if let f = r.savedTo { out += "\(r.name): whitelist written to \(f)\n" }
            if let s = r.status { out += status(r.name, s) }
            if let s = r.stats { out += (r.status == nil ? "\(r.name):\n" : "") + stats(s) }
        }
        return out
    }

    static func list(_ results: [ComponentResult], directory: String) -> String {
        guard !results.isEmpty else { return "no qtfs server or mount is running here (no control socket in \(directory))\n" }
        var t = Table(["COMPONENT", "ROLE", "STATE", "PID", "UPTIME", "CONNS", "IN-FLIGHT", "LOG", "WHERE"],
                      rightAligned: [3, 5, 6])
        for r in results {
            guard let s = r.status else {
                t.add([r.name, r.role, r.state, "-", "-", "-", "-", "-", r.address])
                continue
            }
            let live = s.connections.filter { $0.state == "active" }.count
            t.add([r.name, r.role, r.state, "\(s.pid)", Units.uptime(seconds: s.uptimeSeconds),
                   "\(live)/\(s.connections.count)", "\(s.requestsInFlight)", s.logLevel, location(s)])
        }
        return t.render()
    }

    /// Where a component works: a server's address and exports, a mount's point and source.
    static func location(_ s: StatusReport) -> String {
        if let m = s.mountpoint { return "\(m) <- \(s.server ?? "?"):\(s.source ?? "?")" }
        if s.role == "kmod" { return "\(s.listen ?? "netlink:qtfs"), mounts: \((s.exports ?? []).joined(separator: ","))" }
        return "\(s.listen ?? "?") exports \((s.exports ?? []).joined(separator: ","))"
    }

    static func status(_ name: String, _ s: StatusReport) -> String {
        var out = "\(name): \(s.role), pid \(s.pid), \(s.version)\n"
        out += "  up \(Units.uptime(seconds: s.uptimeSeconds)), log level \(s.logLevel), "
        out += "\(s.requestsInFlight) requests in flight, in \(Units.bytes(s.bytesIn)), out \(Units.bytes(s.bytesOut))\n"
        out += "  \(location(s))\n"
        if let loop = s.requestLoop { out += "  request loop \(loop), \(s.uringRequests ?? 0) requests through io_uring\n" }
        if let ahead = s.lookupsAhead, ahead > 0 { out += "  \(ahead) lookups answered ahead\n" }
        if s.connections.isEmpty {
            out += "  no connections\n"
        } else {
            var t = Table(["CONN", "PEER", "STATE", "CRYPT", "IN-FLIGHT", "BYTES-IN", "BYTES-OUT"], rightAligned: [0, 4, 5, 6])
            for c in s.connections {
                t.add(["\(c.id)", c.peer, c.state, c.crypt ?? "-", "\(c.requestsInFlight)", Units.bytes(c.bytesIn), Units.bytes(c.bytesOut)])
            }
            out += t.render(indent: "  ")
        }
        return out + remotePrograms(s.remotePrograms ?? [])
    }

    /// The server's running remote-exec programs (docs/rexec.md), when there are any.
    static func remotePrograms(_ list: [RemoteProgramReport]) -> String {
        guard !list.isEmpty else { return "" }
        var t = Table(["HOST-PID", "DPU-PID", "PEER", "UID", "STARTED", "BYTES-IN", "BYTES-OUT", "PROGRAM"],
                      rightAligned: [0, 1, 3, 5, 6])
        for p in list {
            t.add(["\(p.hostPid)", "\(p.dpuPid)", p.peer, "\(p.uid)", Units.clock(unixTime: p.startedAt),
                   Units.bytes(p.bytesIn), Units.bytes(p.bytesOut), p.program])
        }
        return "  remote programs:\n" + t.render(indent: "  ")
    }

    static func stats(_ ops: [OpStatsReport]) -> String {
        guard !ops.isEmpty else { return "  no requests since start or the last clear\n" }
        var t = Table(["OP", "COUNT", "ERRORS", "P50", "P99", "MAX", "ERRNOS"], rightAligned: [1, 2, 3, 4, 5])
        for o in ops {
            let errnos = o.errnos.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.key):\($0.value)" }.joined(separator: " ")
            t.add([o.op, "\(o.count)", "\(o.errors)", Units.duration(nanos: o.p50Nanos),
                   Units.duration(nanos: o.p99Nanos), Units.duration(nanos: o.maxNanos), errnos])
        }
        return t.render(indent: "  ")
    }

    static func whitelist(_ name: String, _ entries: [WhitelistEntry]) -> String {
        guard !entries.isEmpty else { return "\(name): whitelist empty\n" }
        var t = Table(["TYPE", "INDEX", "PATH"], rightAligned: [1])
        for e in entries { t.add([e.type, "\(e.index)", e.path]) }
        return "\(name) whitelist:\n" + t.render(indent: "  ")
    }
}
