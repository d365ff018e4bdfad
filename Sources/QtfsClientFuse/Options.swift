// Command-line and -o option parsing for qtfs-fuse and its mount(8) helper form.
import QtfsClient

struct Options {
    var source = ""
    var mountpoint = ""
    var server = ServerAddress(host: "127.0.0.1", port: 12345)
    var conns = 4
    var entryTimeout = 1.0
    var negativeTimeout = 0.0   // absent names: not cached, the host's other side creates files
    var attrTimeout = 1.0
    var proc = false
    var localProc = "/local_proc"
    var writeback = false
    var writeBehind = true  // large writes answered before the host's answer (WriteBehind.swift)
    var readaheadKB = 1024   // the mount's kernel readahead: one 1 MiB READ (0: kernel default)
    var prefetch = true    // directory attribute prefetch for uncached lookups
    var remoteFifos = true // host fifos shown as regular files served by the host (FifoOps)
    var uring = true       // FUSE over io_uring when the kernel offers it (FuseUring.swift)
    var uringExplicit = false   // -o uring given: a refusal is worth a warning
    var bridges: [BridgeSpec] = []   // unix sockets: local path -> host socket
    var serves: [BridgeSpec] = []    // unix sockets: host path -> DPU socket (localPath)
    var soft = false       // give up after `timeo` seconds instead of waiting for the server
    var timeo = 30.0
    var allowOther = Sys.isRoot
    var debug = false
    var fsname: String?
    var keyFile: String?   // pre-shared key for the authentication handshake
    var crypt: ClientCrypt?   // sealed frames; nil: aead with a key, none without
    var foreground = false
    var fake = false       // mount.qtfs -f: do everything but mount
    var sloppy = false     // mount.qtfs -s: ignore unknown options
    var verbose = false
    var mountFlags: [String] = []   // rw, ro, nosuid, ... passed to libfuse

    static let mountFlagNames: Set<String> = [
        "rw", "ro", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "sync", "async",
        "atime", "noatime", "diratime", "nodiratime", "dirsync",
    ]
    /// mount(8)/fstab words with no meaning for this file system.
    static let ignoredNames: Set<String> = [
        "_netdev", "defaults", "auto", "noauto", "user", "users", "nouser", "nofail", "owner",
        "group", "relatime", "norelatime", "strictatime", "nostrictatime", "lazytime", "nolazytime",
        "loud", "silent", "nodefaults", "fuse",   // "fuse": mount.qtfs uses FUSE
    ]
}

extension Options {
    /// hard: wait for the server forever (interruptible); soft: ETIMEDOUT after timeo.
    var retryPolicy: RetryPolicy { soft ? .soft(max(timeo, 0.1)) : .hard }
}

struct UsageError: Error { let message: String }

extension Options {
    /// Applies one comma-separated -o string.
    mutating func apply(optionString s: String) throws {
        for item in s.split(separator: ",") where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1)
            try apply(String(parts[0]), parts.count > 1 ? String(parts[1]) : nil)
        }
    }

    private mutating func apply(_ key: String, _ value: String?) throws {
        func need() throws -> String {
            guard let value, !value.isEmpty else { throw UsageError(message: "option '\(key)' needs a value: -o \(key)=...") }
            return value
        }
        switch key {
        case "server":
            guard let a = ServerAddress.parse(try need()) else {
                throw UsageError(message: "bad server address '\(value!)': use server=HOST or server=HOST:PORT")
            }
            server = a
        case "conns":
            guard let n = Int(try need()), (1...64).contains(n) else {
                throw UsageError(message: "conns must be a number from 1 to 64")
            }
            conns = n
        case "entry_timeout": entryTimeout = try seconds(key, need())
        case "negative_timeout": negativeTimeout = try seconds(key, need())
        case "attr_timeout": attrTimeout = try seconds(key, need())
        case "proc": proc = true
        case "local_proc": localProc = try need()
        case "writeback": writeback = true
        case "no_writeback": writeback = false
        case "write_behind": writeBehind = true
        case "no_write_behind": writeBehind = false
        case "readahead_kb":
            guard let n = Int(try need()), (0...65536).contains(n) else {
                throw UsageError(message: "readahead_kb must be a number of KiB from 0 to 65536 (0 keeps the kernel's default)")
            }
            readaheadKB = n
        case "prefetch": prefetch = true
        case "noprefetch", "no_prefetch": prefetch = false
        case "localfifo": remoteFifos = false
        case "uring": uring = true; uringExplicit = true
        case "nouring", "no_uring": uring = false
        case "unix_bridge":
            guard let b = BridgeSpec.parse(try need()) else {
                throw UsageError(message: "bad unix_bridge '\(value!)': use unix_bridge=/dpu/path:/host/path[:seqpacket]")
            }
            bridges.append(b)
        case "unix_serve":
            guard let b = BridgeSpec.parse(try need()) else {
                throw UsageError(message: "bad unix_serve '\(value!)': use unix_serve=/host/path:/dpu/path[:seqpacket]")
            }
            serves.append(BridgeSpec(localPath: b.hostPath, hostPath: b.localPath, seqpacket: b.seqpacket))
        case "allow_other": allowOther = true
        case "no_allow_other": allowOther = false
        case "debug": debug = true
        case "fsname": fsname = try need()
        case "key": keyFile = try need()
        case "crypt":
            guard let mode = ClientCrypt(rawValue: try need()) else {
                throw UsageError(message: "crypt must be \(ClientCrypt.names), got '\(value ?? "")'")
            }
            crypt = mode
        case "soft": soft = true
        case "hard": soft = false
        case "timeo": timeo = try seconds(key, need())
        default: try applyMountWord(key)
        }
    }

    private mutating func applyMountWord(_ key: String) throws {
        if Options.mountFlagNames.contains(key) { mountFlags.append(key); return }
        if Options.ignoredNames.contains(key) || key.hasPrefix("x-") || key == "comment" { return }
        if sloppy { return }
        throw UsageError(message: "unknown option '\(key)' — see `qtfs-fuse --help` for the options")
    }

    private func seconds(_ key: String, _ v: String) throws -> Double {
        guard let d = Double(v), d >= 0, d <= 86400 else {
            throw UsageError(message: "\(key) must be a number of seconds (0 to 86400), got '\(v)'")
        }
        return d
    }
}
