// Upstream qtfs's whitelist file (/etc/qtfs/whitelist), read as is: a GLib key file with
// one group per operation kind and a `Path=` key holding `;`-separated host paths.
//
//   [Open]
//   Path=/proc;/sys;/var/lib/docker
//   [Mount]
//   Path=/var/lib/docker
import Glibc
import QtfsSystem

extension Whitelist {
    /// The operation kinds, named as upstream's groups.
    public enum Kind: String, CaseIterable, Sendable {
        case open = "Open", write = "Write", read = "Read", readdir = "Readdir", mkdir = "Mkdir"
        case rmdir = "Rmdir", create = "Create", unlink = "Unlink", rename = "Rename", setattr = "Setattr"
        case setxattr = "Setxattr", mount = "Mount", kill = "Kill", udsconnect = "Udsconnect"
    }

    /// Upstream's limits: 64 items per kind, each shorter than 4096 bytes.
    public static let maxItems = 64
    public static let maxItemLength = 4095

    /// Parses the file text into paths per kind; errors name the line.
    static func parse(_ text: String, source: String) throws -> [Kind: [String]] {
        var out: [Kind: [String]] = [:]
        var group: Kind? = nil
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw).trimmed
            let at = "\(source):\(n + 1)"
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let name = String(line.dropFirst().dropLast())
                guard let k = Kind(rawValue: name) else {
                    throw ConfigError("\(at): unknown whitelist group [\(name)]; groups are \(Kind.allCases.map { "[\($0.rawValue)]" }.joined(separator: " "))")
                }
                group = k
                continue
            }
            guard let eq = line.firstIndex(of: "="), let g = group else {
                throw ConfigError("\(at): expected a [Group] and then Path=/a;/b, got '\(line)'")
            }
            let key = String(line[..<eq]).trimmed
            guard key == "Path" else { throw ConfigError("\(at): unknown key '\(key)'; a whitelist group holds Path=/a;/b") }
            for item in line[line.index(after: eq)...].split(separator: ";") {
                let path = String(item).trimmed
                if path.isEmpty { continue }
                var list = out[g] ?? []
                try validate(path, adding: g, to: list, at: at)
                list.append(path)
                out[g] = list
            }
        }
        return out
    }

    static func validate(_ path: String, adding kind: Kind, to list: [String], at: String) throws {
        // [Kill] lists process names (upstream matches a task's comm); the rest are host paths.
        guard path.hasPrefix("/") || kind == .kill else { throw ConfigError("\(at): whitelist path '\(path)' must be absolute") }
        guard path.utf8.count <= maxItemLength else { throw ConfigError("\(at): whitelist path longer than \(maxItemLength) bytes") }
        guard !list.contains(path) else { throw ConfigError("\(at): '\(path)' is listed twice in [\(kind.rawValue)]") }
        guard list.count < maxItems else { throw ConfigError("\(at): more than \(maxItems) paths in [\(kind.rawValue)]") }
    }

    /// The file text for `save()`, in upstream's format.
    static func render(_ entries: [Kind: [String]]) -> String {
        var out = "# qtfs whitelist (upstream format): one group per operation, Path=a;b\n"
        for k in Kind.allCases {
            guard let paths = entries[k], !paths.isEmpty else { continue }
            out += "[\(k.rawValue)]\nPath=\(paths.joined(separator: ";"))\n"
        }
        return out
    }
}
