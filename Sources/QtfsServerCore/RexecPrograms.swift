// Which program a REXEC_START may run: argv[0] resolved on the host (symlinks and ".."
// followed) and matched against the resolved entries of the whitelist, which is read
// again on every start so that an edit takes effect at once (docs/rexec.md).
import Glibc
import QtfsProtocol
import QtfsSystem

struct RexecPrograms {
    /// Where a bare program name is looked for on the host (the caller's PATH is the
    /// DPU's and says nothing about the host).
    static let searchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    let whitelistFile: String

    /// The resolved program to execute, or the answer refusing it.
    func resolve(_ name: String, cwd: String) -> Result<String, RexecStartReply> {
        guard let path = locate(name, cwd: cwd) else {
            return .failure(RexecStartReply(result: .notFound, errno: UInt32(ENOENT),
                                            message: "\(name): no such program on the host"))
        }
        let allowed: Set<String>
        switch readWhitelist() {
        case .success(let set): allowed = set
        case .failure(let reply): return .failure(reply)
        }
        guard allowed.contains(path) else {
            let shown = path == name ? name : "\(name) (\(path))"
            return .failure(RexecStartReply(result: .notAllowed, errno: UInt32(EPERM),
                message: "\(shown) may not be run from the DPU: add \(path) to \(whitelistFile) on the host"))
        }
        return .success(path)
    }

    private func locate(_ name: String, cwd: String) -> String? {
        if name.contains("/") {
            return Self.realPath(name.hasPrefix("/") ? name : cwd + "/" + name)
        }
        for dir in Self.searchPath {
            if let p = Self.realPath(dir + "/" + name), access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    /// The resolved absolute path of every entry (entries that do not exist are skipped).
    private func readWhitelist() -> Result<Set<String>, RexecStartReply> {
        guard let f = fopen(whitelistFile, "re") else {
            return .failure(RexecStartReply(result: .notAllowed, errno: UInt32(errno),
                message: "remote exec is off: the host's whitelist \(whitelistFile) cannot be read (\(String(cString: strerror(errno))))"))
        }
        defer { fclose(f) }
        var set = Set<String>()
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0, let line {
            let entry = String(cString: line).replacingNewline.trimmed
            guard entry.hasPrefix("/"), let p = Self.realPath(entry) else { continue }   // comments, blanks
            set.insert(p)
        }
        return .success(set)
    }

    static func realPath(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
}

extension String {
    fileprivate var replacingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
