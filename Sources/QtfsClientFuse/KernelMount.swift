// mount.qtfs with qtfs.ko loaded: one mount(2) call, no daemon (kmod/README.md,
// "The mount helper rule"). The decision itself is MountRouter in QtfsClient.
import Glibc
import QtfsAuth
import QtfsClient

enum KernelMount {
    /// Mounts with the module when the helper rule says so. Returns the exit status, or
    /// nil when qtfs-fuse should go on with FUSE (also when the module went away: ENODEV).
    static func runIfChosen(_ argv: [String]) -> Int32? {
        let filesystems = readText("/proc/filesystems") ?? ""   // unreadable: FUSE
        guard case .kernel(var req) = MountRouter.route(argv: argv, filesystems: filesystems, resolve: resolveIPv4)
        else { return nil }
        if let path = req.keyFile {
            do {
                req.data += (req.data.isEmpty ? "" : ",") + "key_hex=\(try AuthKey.load(path: path).hexDigits)"
            } catch {
                Sys.printError("mount.qtfs: \(error)"); return 32
            }
        }
        if req.verbose || req.fake {
            let shown = req.data.split(separator: ",").map { $0.hasPrefix("key_hex=") ? "key_hex=…" : $0 }
            Sys.printError("mount.qtfs: qtfs.ko: mount(\(req.source), \(req.target), qtfs, 0x\(String(req.flags, radix: 16)), \"\(shown.joined(separator: ","))\")")
        }
        if req.fake { return 0 }
        if mount(req.source, req.target, "qtfs", req.flags, req.data) == 0 { return 0 }
        let err = errno
        if err == ENODEV { return nil }   // unloaded since /proc/filesystems was read
        Sys.printError("mount.qtfs: \(req.source) on \(req.target) with qtfs.ko: \(Sys.errorText(err))\(hint(err))")
        return 32   // mount(8): mount failure
    }

    private static func hint(_ err: Int32) -> String {
        switch err {
        case EINVAL: return " — the module refused an option or the source; `dmesg | grep qtfs` says which (use -o fuse for FUSE-only options)"
        case ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH: return " — is qtfs-server running and reachable at the server= address?"
        case ENOENT: return " — the host path does not exist on the server, or the mount point does not exist here"
        case EPERM: return " — mounting needs root (CAP_SYS_ADMIN)"
        case EACCES: return " — the server refused: the export does not allow it, or authentication failed (key missing or different; `dmesg | grep qtfs` says which)"
        default: return ""
        }
    }

    /// The first IPv4 address of a host name, dotted.
    private static func resolveIPv4(_ host: String) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &res) == 0, let first = res else { return nil }
        defer { freeaddrinfo(res) }
        var buf = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        let ok = first.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
            var a = sin.pointee.sin_addr
            return inet_ntop(AF_INET, &a, &buf, socklen_t(buf.count)) != nil
        }
        return ok ? String(cString: buf) : nil
    }

    private static func readText(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n == 0 { break }
            out += chunk[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
