// Connect, mount, serve: the life of one qtfs-fuse process.
import CFuse
import CQtfsSys
import QtfsAuth
import QtfsClient
import QtfsFuseOps
import QtfsProtocol

// Declared by fuse_lowlevel.h only for FUSE_USE_VERSION >= 3.12; the 3.2 form caps the
// pool at 10 threads, too few for many requests in flight on a network file system.
@_silgen_name("fuse_session_loop_mt_312")
func fuse_session_loop_mt_312(_ se: OpaquePointer, _ config: UnsafeMutableRawPointer?) -> Int32

enum Runner {
    static func run(_ o: Options) -> Int32 {
        Sys.ignoreSigpipe()
        let report = o.foreground ? -1 : Daemon.fork()
        func fail(_ msg: String) -> Int32 {
            FuseLogging.client.error("\(msg)")
            Daemon.report(report, status: 1)
            return 1
        }
        guard Sys.isDirectory(o.mountpoint) else {
            return fail("mount point \(o.mountpoint) is not a directory (or is a dead mount) — create it with `mkdir -p \(o.mountpoint)`, or unmount it with `umount -l \(o.mountpoint)`")
        }
        let session: Session
        do {
            let key = try o.keyFile.map { try AuthKey.load(path: $0) }
            ClientAuth.processKey = key   // stream and socket-bridge connections authenticate too
            if o.crypt == .aead && key == nil {
                return fail("crypt=aead needs the server's key to derive session keys from: add key=FILE")
            }
            ClientAuth.processCrypt = ClientCrypt.effective(o.crypt, hasKey: key != nil)
            session = try Session.open(o.server, hostPath: o.source, count: o.conns, caller: Sys.currentCaller(), key: key,
                                       logger: FuseLogging.client)
        } catch {
            return fail((error as? ConnectError)?.description ?? (error as? AuthKeyError)?.description ?? "\(error)")
        }
        if o.fake { Daemon.report(report, status: 0); session.close(); return 0 }
        session.policy = o.retryPolicy
        let fs = FS(session: session, settings: o.settings, logger: FuseLogging.client)
        let rc = withExtendedLifetime(fs) { serve(o, fs, report, fail) }
        session.close()
        return rc
    }

    /// Serves the mount; every operation finds `fs` through the session's userdata.
    private static func serve(_ o: Options, _ fs: FS, _ report: Int32, _ fail: (String) -> Int32) -> Int32 {
        var ops = makeOps()
        let argv = fuseArgs(o).map { Optional(Sys.dup($0)) }
        var cargv = argv
        var args = fuse_args(argc: Int32(cargv.count), argv: &cargv, allocated: 0)
        guard let se = fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, fs.userdata) else {
            return fail("cannot create the FUSE session (libfuse printed why above)")
        }
        fs.fuseSession = se
        defer { fuse_session_destroy(se) }
        guard fuse_set_signal_handlers(se) == 0 else { return fail("cannot install signal handlers") }
        defer { fuse_remove_signal_handlers(se) }
        guard fuse_session_mount(se, o.mountpoint) == 0 else {
            return fail("cannot mount on \(o.mountpoint) — is /dev/fuse present (modprobe fuse) and are you root or is fusermount3 installed?")
        }
        let uring = mounted(o, se)
        let sockets: [any LocalSocketService]
        do { sockets = try localSockets(o) } catch {
            fuse_session_unmount(se)
            return fail((error as? ConnectError)?.description ?? "\(error)")
        }
        defer { sockets.forEach { $0.stop() } }
        Daemon.report(report, status: 0)   // the parent exits 0; we detach
        let control = FuseControl.start(o, session: fs.session)
        defer { control?.stop() }
        let rc = requestLoop(se)
        if uring { FuseUring.stop() }
        fuse_session_unmount(se)
        return rc == 0 ? 0 : 1
    }

    /// Right after the mount: the request loop's kind and the kernel readahead. True when
    /// requests come through io_uring.
    private static func mounted(_ o: Options, _ se: OpaquePointer) -> Bool {
        if o.verbose { FuseLogging.client.info("mounted \(o.server):\(o.source) on \(o.mountpoint)") }
        let uring = FuseUring.attach(se, ring: o.uring, explicit: o.uringExplicit) && o.uring
        if !Readahead.set(mountpoint: o.mountpoint, kb: o.readaheadKB), o.verbose, o.readaheadKB > 0 {
            FuseLogging.client.info("kernel readahead left at its default (read_ahead_kb needs root)")
        }
        return uring
    }

    /// The socket bridges (-o bridge=) and serves (-o serve=) of this mount.
    private static func localSockets(_ o: Options) throws -> [any LocalSocketService] {
        let bridges: [any LocalSocketService] = try o.bridges.map { try SocketBridge($0, server: o.server, logger: FuseLogging.client) }
        return try bridges + o.serves.map { try SocketServe($0, server: o.server, logger: FuseLogging.client) }
    }

    /// libfuse's multi-threaded loop, until the session ends; a watcher ends the waits of
    /// hard-mount workers on a server that is gone, so that libfuse can join them.
    private static func requestLoop(_ se: OpaquePointer) -> Int32 {
        let cfg = fuse_loop_cfg_create()
        defer { fuse_loop_cfg_destroy(cfg) }
        fuse_loop_cfg_set_max_threads(cfg, 64)
        fuse_loop_cfg_set_idle_threads(cfg, 16)
        let watcher = ExitWatcher { fuse_session_exited(se) != 0 }
        defer { watcher.stop() }
        return fuse_session_loop_mt_312(se, UnsafeMutableRawPointer(cfg))
    }

    static func fuseArgs(_ o: Options) -> [String] {
        let fsname = (o.fsname ?? "\(o.server):\(o.source)").replacingComma()
        var opts = ["fsname=\(fsname)", "subtype=qtfs", "max_read=\(Wire.maxIOSize)"]
        if o.allowOther { opts.append("allow_other") }
        opts += o.mountFlags
        var a = ["qtfs-fuse", "-o", opts.joined(separator: ",")]
        if o.debug { a.append("-d") }
        return a
    }
}

extension Options {
    /// What the FUSE operations need of the options.
    var settings: MountSettings {
        var m = MountSettings()
        m.server = server
        m.mountpoint = mountpoint
        m.entryTimeout = entryTimeout
        m.negativeTimeout = negativeTimeout
        m.attrTimeout = attrTimeout
        m.proc = proc
        m.localProc = localProc
        m.writeback = writeback
        m.writeBehind = writeBehind
        m.prefetch = prefetch
        m.remoteFifos = remoteFifos
        return m
    }
}

extension String {
    func replacingComma() -> String { String(map { $0 == "," ? "_" : $0 }) }
}

/// What a mount's local socket endpoints have in common: they end with the mount.
protocol LocalSocketService { func stop() }
extension SocketBridge: LocalSocketService {}
extension SocketServe: LocalSocketService {}
