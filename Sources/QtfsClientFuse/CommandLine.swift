// argv forms:
//   qtfs-fuse [-o opts] [-f] [-d] <host path> <mountpoint>
//   mount.qtfs <source> <dir> [-sfnv] [-o options]      (mount(8) helper convention)
import QtfsClient

enum Invocation {
    case run(Options)
    case help
    case version
}

func parseCommandLine(_ argv: [String]) throws -> Invocation {
    let name = argv.first.map { String($0.split(separator: "/").last ?? "") } ?? "qtfs-fuse"
    let helper = name.hasPrefix("mount.")
    var o = Options()
    var positional: [String] = []
    var pendingO: [String] = []
    var i = 1
    while i < argv.count {
        let a = argv[i]
        i += 1
        switch a {
        case "-h", "--help": return .help
        case "-V", "--version": return .version
        case "-o":
            guard i < argv.count else { throw UsageError(message: "-o needs an option list") }
            pendingO.append(argv[i]); i += 1
        case _ where a.hasPrefix("-o"): pendingO.append(String(a.dropFirst(2)))
        case _ where a.hasPrefix("--"):
            throw UsageError(message: "unknown option \(a) — see `qtfs-fuse --help`")
        case _ where a.hasPrefix("-") && a.count > 1:
            try applyFlags(a.dropFirst(), helper: helper, &o)
        default: positional.append(a)
        }
    }
    // Flags first (-s changes how -o is read), then the option lists in order.
    for s in pendingO { try o.apply(optionString: s) }
    guard positional.count == 2 else {
        throw UsageError(message: "expected a host path and a mount point, e.g. `\(name) -o server=10.0.0.1 / /mnt/host`")
    }
    o.source = positional[0]
    o.mountpoint = positional[1]
    guard o.source.hasPrefix("/") else {
        throw UsageError(message: "the host path must be absolute (got '\(o.source)')")
    }
    return .run(o)
}

private func applyFlags(_ flags: Substring, helper: Bool, _ o: inout Options) throws {
    for f in flags {
        switch (f, helper) {
        case ("f", false): o.foreground = true
        case ("f", true): o.fake = true
        case ("d", false): o.debug = true; o.foreground = true
        case ("s", true): o.sloppy = true
        case ("n", true): break   // no mtab to write
        case ("v", true): o.verbose = true
        default: throw UsageError(message: "unknown flag -\(f) — see `qtfs-fuse --help`")
        }
    }
}

let usageText = """
usage: qtfs-fuse [-f] [-d] [-o OPTIONS] HOST_PATH MOUNTPOINT
       mount.qtfs HOST_PATH MOUNTPOINT [-sfnv] [-o OPTIONS]   (as called by mount -t qtfs)

Mounts the directory HOST_PATH exported by a qtfs-server at MOUNTPOINT (FUSE).

  -f            stay in the foreground (default: background once mounted);
                as mount.qtfs: fake, connect and check but do not mount
  -d            foreground with FUSE debug output
  -s            as mount.qtfs: ignore unknown options
  -n            as mount.qtfs: ignored (no mtab to write)
  -v            as mount.qtfs: a line when mounted
  -h, --help    this text
  -V, --version  the version

Options (-o, comma-separated):
  server=HOST[:PORT]   qtfs-server address (default: server= in /etc/qtfs/client.conf
                       or $QTFS_CLIENT_CONF, else 127.0.0.1:12345; key= and conns= too)
  conns=N              TCP connections to the server, 1-64 (default 4)
  entry_timeout=S      seconds the kernel caches names (default 1; proc/sys/cgroup: 60)
  negative_timeout=S   seconds the kernel caches absent names (default 0: a name the
                       host creates is seen at once)
  attr_timeout=S       seconds the kernel caches attributes (default 1; 0 for proc/sys/cgroup)
  proc                 HOST_PATH is /proc: /proc/self, /proc/thread-self point to the
                       caller's own process under local_proc, /proc/mounts to 1/mounts
  local_proc=PATH      where the DPU's own procfs is mounted (default /local_proc)
  writeback            kernel write-back caching (faster writes, weaker coherence)
  no_writeback         write-through (default)
  write_behind         writes of 64 KiB or more are answered at once, errors come at
                       close/fsync (default)
  no_write_behind      wait for the host's answer to every write
  readahead_kb=N       kernel readahead of the mount in KiB (default 1024: one 1 MiB READ; 0 keeps the kernel's 128)
  prefetch             fetch a directory's attributes with its first uncached lookup
                       (default, off when a timeout is 0)
  noprefetch, no_prefetch   ask for each name on its own
  allow_other          let other users access the mount (default when run as root)
  no_allow_other       only the mounting user
  uring                FUSE over io_uring when the kernel offers it (default; needs
                       /sys/module/fuse/parameters/enable_uring = Y at mount time)
  nouring, no_uring    read and answer requests on /dev/fuse only
  localfifo            host fifos are left to this kernel's pipe code (default: served
                       by the host, shown as regular files)
  unix_bridge=DPU_PATH:HOST_PATH[:seqpacket]   repeatable: connecting to DPU_PATH here
                       reaches the host socket HOST_PATH
  unix_serve=HOST_PATH:DPU_PATH[:seqpacket]    repeatable: host processes connecting to
                       HOST_PATH reach the socket DPU_PATH here
  fuse                 as mount.qtfs: FUSE even when qtfs.ko is loaded
  debug                FUSE debug output
  fsname=NAME          name shown in /proc/mounts (default SERVER:HOST_PATH)
  key=FILE             pre-shared key file (mode 0600) for a server started with --key
  crypt=MODE           aead: seal every frame after authentication (default with a key);
                       none: plaintext, for a trusted link (the server must allow it)
  hard                 when the server is unreachable, wait for it forever (default);
                       lost connections are redialled, a signal (Ctrl-C, kill) ends the wait
  soft                 give up instead: the operation fails with ETIMEDOUT after timeo
  timeo=S              seconds a soft mount waits for an answer (default 30)
  rw, ro, suid, nosuid, dev, nodev, exec, noexec, sync, async, atime, noatime,
  diratime, nodiratime, dirsync   mount flags, passed on
  _netdev, defaults, auto, noauto, user, nofail, x-*   accepted and ignored (fstab)

Examples:
  qtfs-fuse -o server=192.168.10.1:12345 / /mnt/host
  mount -t qtfs -o server=192.168.10.1,proc /proc /mnt/hostproc
  fstab: /  /mnt/host  qtfs  server=192.168.10.1,_netdev  0 0
"""
