// What REXEC_START carries about this process: argv, the environment after -i/-e/-u,
// the working directory, umask, user and groups, and the files it passes.
import Glibc
import CQtfsSys
import QtfsClient
import QtfsProtocol

enum RexecRequestBuilder {
    static func build(_ o: RexecOptions) throws -> RexecStartRequest {
        var rows: UInt16 = 0, cols: UInt16 = 0
        if o.pty { _ = qtfs_get_winsize(0, &rows, &cols) }
        return RexecStartRequest(
            caller: caller(), flags: o.pty ? RexecStartRequest.flagPty : 0, umask: currentUmask(),
            rows: rows, cols: cols, cwd: Array(try workingDirectory().utf8),
            argv: o.argv.map { Array($0.utf8) }, env: environment(o).map { Array($0.utf8) },
            files: o.passFiles ? PassedFiles.find(server: o.server) : [])
    }

    /// This process's ids and supplementary groups: the program runs as them.
    static func caller() -> Caller {
        var groups = [gid_t](repeating: 0, count: 256)
        let n = getgroups(Int32(groups.count), &groups)
        return Caller(uid: getuid(), gid: getgid(), pid: UInt32(getpid()),
                      groups: Array(groups.prefix(Int(max(n, 0))).prefix(Wire.maxGroups)))
    }

    static func currentUmask() -> UInt32 {
        let m = umask(0)
        umask(m)
        return UInt32(m)
    }

    static func workingDirectory() throws -> String {
        guard let p = getcwd(nil, 0) else {
            throw RexecFailure(status: 126, "cannot tell the working directory (\(Errno.current().text)): was it removed? cd to a directory the host has too")
        }
        defer { free(p) }
        return String(cString: p)
    }

    static func environment(_ o: RexecOptions) -> [String] {
        var list: [String] = []
        if !o.clearEnv {
            var p = environ
            while let s = p.pointee { list.append(String(cString: s)); p += 1 }
        }
        let removed = Set(o.unsetEnv + o.setEnv.map { String($0.prefix { $0 != "=" }) })
        list.removeAll { removed.contains(String($0.prefix { $0 != "=" })) }
        return list + o.setEnv
    }
}
