// Which client serves `mount -t qtfs`: mount.qtfs (qtfs-fuse under that name) uses the
// kernel module when it is loaded, FUSE otherwise or when asked to (`-o fuse`).
// Pure decision logic; the mount(2) call lives in qtfs-fuse (KernelMount.swift).

/// A mount(2) call for qtfs.ko.
public struct KernelMountRequest: Equatable, Sendable {
    public var source: String
    public var target: String
    public var flags: UInt     // MS_* bits
    public var data: String    // file-system options, comma-separated
    public var keyFile: String?  // key=KEYFILE: read by the helper, passed as key_hex=HEX
    public var fake = false    // mount.qtfs -f: decide, do not mount
    public var verbose = false
}

public enum MountRoute: Equatable, Sendable {
    case fuse                  // run qtfs-fuse as usual (its parser ignores "fuse")
    case kernel(KernelMountRequest)
}

public enum MountRouter {
    /// Linux MS_* values (uapi/linux/mount.h); the first bit set, the second cleared.
    static let flagWords: [String: (set: UInt, clear: UInt)] = [
        "ro": (1, 0), "rw": (0, 1), "nosuid": (2, 0), "suid": (0, 2), "nodev": (4, 0), "dev": (0, 4),
        "noexec": (8, 0), "exec": (0, 8), "sync": (16, 0), "async": (0, 16), "remount": (32, 0),
        "dirsync": (128, 0), "noatime": (1024, 0), "atime": (0, 1024), "nodiratime": (2048, 0),
        "diratime": (0, 2048), "relatime": (1 << 21, 0), "norelatime": (0, 1 << 21),
        "strictatime": (1 << 24, 0), "nostrictatime": (0, 1 << 24), "lazytime": (1 << 25, 0),
        "nolazytime": (0, 1 << 25),
    ]
    /// fstab/mount(8) words that mean nothing to the kernel.
    static let userspaceWords: Set<String> = [
        "_netdev", "defaults", "auto", "noauto", "user", "users", "nouser", "nofail", "owner",
        "group", "loud", "silent", "nodefaults", "fuse",
    ]

    /// `argv` as mount(8) runs the helper: mount.qtfs SOURCE DIR [-sfnv] [-o OPTS] [-t TYPE] [-N NS].
    /// `filesystems` is the text of /proc/filesystems; `resolve` turns a host name into a
    /// dotted IPv4 address (nil: cannot, so FUSE, which resolves names itself, is used).
    public static func route(argv: [String], filesystems: String, resolve: (String) -> String?) -> MountRoute {
        guard let name = argv.first?.split(separator: "/").last, name == "mount.qtfs",
              let call = HelperCall(argv), !call.options.contains("fuse"),
              kernelHasQtfs(filesystems)
        else { return .fuse }
        var req = KernelMountRequest(source: call.source, target: call.target, flags: 0, data: "",
                                     fake: call.fake, verbose: call.verbose)
        var data: [String] = []
        for opt in call.options {
            let key = String(opt.split(separator: "=", maxSplits: 1)[0])
            if let f = flagWords[key] {
                req.flags = (req.flags | f.set) & ~f.clear
            } else if userspaceWords.contains(key) || key.hasPrefix("x-") || key == "comment" {
                continue
            } else if key == "key" {
                req.keyFile = String(opt.dropFirst("key=".count))
            } else if key == "server" {
                guard let s = kernelServer(opt.dropFirst("server=".count), resolve) else { return .fuse }
                data.removeAll { $0.hasPrefix("server=") }   // the last one wins, as with FUSE
                data.append("server=\(s)")
            } else {
                data.removeAll { $0.split(separator: "=", maxSplits: 1)[0] == key }
                data.append(opt)
            }
        }
        req.data = data.joined(separator: ",")
        return .kernel(req)
    }

    /// True when /proc/filesystems lists a file system named exactly "qtfs".
    public static func kernelHasQtfs(_ filesystems: String) -> Bool {
        filesystems.split(separator: "\n").contains { line in
            line.split(whereSeparator: { $0 == "\t" || $0 == " " }).last == "qtfs"
        }
    }

    /// "HOST[:PORT]" with HOST made a dotted IPv4 address; nil when that is impossible
    /// (IPv6, or a name that does not resolve to IPv4).
    static func kernelServer(_ value: Substring, _ resolve: (String) -> String?) -> String? {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let host = parts.first, !host.isEmpty else { return nil }
        let ip = isDottedIPv4(host) ? String(host) : resolve(String(host))
        guard let ip, isDottedIPv4(Substring(ip)) else { return nil }
        return parts.count == 2 ? "\(ip):\(parts[1])" : ip
    }

    static func isDottedIPv4(_ s: Substring) -> Bool {
        let octets = s.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { o in
            !o.isEmpty && o.count <= 3 && o.allSatisfy(\.isASCII) && (UInt8(o) != nil)
        }
    }
}

/// The helper's command line, split into its parts.
struct HelperCall {
    var source = ""
    var target = ""
    var options: [String] = []
    var fake = false
    var verbose = false

    init?(_ argv: [String]) {
        var positional: [String] = []
        var i = 1
        while i < argv.count {
            let a = argv[i]
            i += 1
            if a == "-o" || a == "-t" || a == "-N" {
                guard i < argv.count else { return nil }
                if a == "-o" { options += Self.split(argv[i]) }
                i += 1
            } else if a.hasPrefix("-o") {
                options += Self.split(String(a.dropFirst(2)))
            } else if a.hasPrefix("-"), a.count > 1 {
                if a.contains("f") { fake = true }
                if a.contains("v") { verbose = true }
            } else {
                positional.append(a)
            }
        }
        guard positional.count == 2 else { return nil }
        source = positional[0]
        target = positional[1]
    }

    static func split(_ s: String) -> [String] { s.split(separator: ",").map(String.init) }
}
