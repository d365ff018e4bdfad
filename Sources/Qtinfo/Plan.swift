// What one qtinfo invocation asks of each component, built from the options, and how it
// is carried out on one component.
import QtfsControl

enum WhitelistTypes {
    /// Upstream's whitelist types (case-insensitive on the command line).
    static let all = ["open", "write", "read", "readdir", "mkdir", "rmdir", "create", "unlink", "rename",
                      "setattr", "setxattr", "mount", "kill", "udsconnect"]

    static func check(_ t: String) throws -> String {
        let lower = t.lowercased()
        guard all.contains(lower) else {
            throw QtinfoError("unknown whitelist type '\(t)'; use one of \(all.joined(separator: ", "))")
        }
        return lower
    }
}

enum WhitelistAction: Equatable {
    case list(String?), add(String, String), remove(String, Int), save

    var request: ControlRequest {
        switch self {
        case .list(let t): return ControlRequest(command: .whitelistList, type: t)
        case .add(let t, let p): return ControlRequest(command: .whitelistAdd, type: t, path: p)
        case .remove(let t, let i): return ControlRequest(command: .whitelistRemove, type: t, index: i)
        case .save: return ControlRequest(command: .whitelistSave)
        }
    }
}

struct Plan {
    var level: QtfsLogLevel?
    var clear = false
    var whitelist: WhitelistAction?
    var showStatus = false
    var showStats = false
    /// No action and no view asked for: the one-line-per-component list.
    var listOnly: Bool { level == nil && !clear && whitelist == nil && !showStatus && !showStats }
    /// Actions fail when nothing is there to act on; the plain list does not.
    var needsComponent: Bool { !listOnly }

    init(_ o: Qtinfo) throws {
        if let l = o.logLevel {
            guard let level = QtfsLogLevel(name: l) else {
                throw QtinfoError("unknown log level '\(l)'; use \(QtfsLogLevel.namesForHelp)")
            }
            self.level = level
        }
        clear = o.clear
        whitelist = try Plan.whitelistAction(o)
        showStatus = o.all || o.status
        showStats = o.all || o.stats
    }

    private static func whitelistAction(_ o: Qtinfo) throws -> WhitelistAction? {
        let asked = [o.whitelistAdd != nil, o.whitelistRemove != nil, o.whitelistList != nil, o.whitelistSave].filter { $0 }
        guard asked.count <= 1 else { throw QtinfoError("use one of -x, -y, -z and --whitelist-save at a time") }
        if let path = o.whitelistAdd {
            guard let t = o.whitelistType else { throw QtinfoError("-x needs the whitelist type first: -w TYPE -x PATH") }
            guard path.hasPrefix("/") else { throw QtinfoError("whitelist path '\(path)' must be absolute") }
            return .add(try WhitelistTypes.check(t), path)
        }
        if let index = o.whitelistRemove {
            guard let t = o.whitelistType else { throw QtinfoError("-y needs the whitelist type first: -w TYPE -y INDEX") }
            guard index >= 0 else { throw QtinfoError("whitelist index must be 0 or more (see qtinfo -z)") }
            return .remove(try WhitelistTypes.check(t), index)
        }
        if let t = o.whitelistList { return .list(t == Arguments.allTypes ? nil : try WhitelistTypes.check(t)) }
        if o.whitelistSave { return .save }
        if o.whitelistType != nil { throw QtinfoError("-w TYPE goes with -x PATH or -y INDEX") }
        return nil
    }

    /// Runs the plan on one component: changes first, then the views. Stops at the first error.
    func apply(to c: any QtfsComponent) -> ComponentResult {
        var r = ComponentResult(name: c.name, role: c.role, address: c.address, state: "running")
        do {
            if let level {
                r.logLevel = try c.perform(ControlRequest(command: .setLogLevel, level: level.rawValue)).logLevel
            }
            if clear {
                _ = try c.perform(ControlRequest(command: .clear))
                r.cleared = true
            }
            if let whitelist {
                let answer = try c.perform(whitelist.request)
                r.whitelist = answer.whitelist
                r.savedTo = answer.savedTo
            }
            if showStatus || listOnly { r.status = try c.perform(ControlRequest(command: .status)).status }
            if showStats { r.stats = try c.perform(ControlRequest(command: .stats)).stats ?? [] }
        } catch {
            r.error = "\(error)"
            r.state = "\(error)".contains("stale control socket") ? "stale" : "unreachable"
        }
        return r
    }
}

/// What qtinfo learned from one component; also the --json schema (docs/qtinfo.md).
struct ComponentResult: Codable, Equatable {
    var name: String
    var role: String
    var address: String
    /// running, stale (its process is gone) or unreachable.
    var state: String
    var error: String?
    var status: StatusReport?
    var stats: [OpStatsReport]?
    var logLevel: String?
    var cleared: Bool?
    var whitelist: [WhitelistEntry]?
    var savedTo: String?
}
