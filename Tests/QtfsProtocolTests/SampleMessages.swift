import QtfsProtocol

/// One sample of every message of protocol v1. Each becomes Tests/Vectors/<name>.vec;
/// the Swift tests and the kernel module's C codec test both check those files.
struct Sample {
    let name: String
    let kind: FrameKind
    let opcode: Opcode
    let id: UInt64
    let payload: any WirePayload
    let decode: ([UInt8]) throws -> any WirePayload

    init<P: WirePayload>(_ name: String, _ kind: FrameKind, _ opcode: Opcode, id: UInt64, _ payload: P) {
        self.name = name; self.kind = kind; self.opcode = opcode; self.id = id
        self.payload = payload
        self.decode = { try P.decode($0) }
    }

    func isEqual(_ other: any WirePayload) -> Bool {
        func eq<P: WirePayload>(_ a: P) -> Bool { (other as? P) == a }
        return eq(payload)
    }
}

enum Samples {
    static let alice = Caller(uid: 1000, gid: 1000, pid: 4242, groups: [4, 27])
    static let file = Target(export: 0, "srv/data/file.txt")
    static let dir = Target(export: 0, "srv/data")
    static let time = Timespec(seconds: 1_700_000_000, nanoseconds: 123_456_789)
    static let fileAttr = Attr(dev: 0x803, ino: 131_074, size: 4096, blocks: 8, rdev: 0, mode: 0o100644,
                               nlink: 1, uid: 1000, gid: 1000, blksize: 4096, flags: 0,
                               atime: time, mtime: time, ctime: time)
    static let procAttr = Attr(dev: 0x16, ino: 4_026_531_841, size: 0, blocks: 0, rdev: 0, mode: 0o100444,
                               nlink: 1, uid: 0, gid: 0, blksize: 1024, flags: Attr.flagPseudo,
                               atime: time, mtime: time, ctime: time)

    static let all: [Sample] = core + AuthSamples.frames + RexecSamples.frames + HostMountSamples.frames

    static let core: [Sample] = [
        Sample("hello.request", .request, .hello, id: 1, HelloRequest(capabilities: 0, clientName: "qtfs-fuse")),
        Sample("hello.response", .response, .hello, id: 1, HelloReply(version: 1, capabilities: 0, serverName: "qtfs-server")),
        Sample("mount.request", .request, .mount, id: 2, MountRequest(caller: .root, path: "/srv/data")),
        Sample("mount.response", .response, .mount, id: 2, MountReply(export: 0, base: "srv/data", root: fileAttr)),
        Sample("lookup.request", .request, .lookup, id: 3, PathRequest(caller: alice, target: file)),
        Sample("attr.response", .response, .lookup, id: 3, AttrReply(attr: fileAttr)),
        Sample("attr-pseudo.response", .response, .lookup, id: 4, AttrReply(attr: procAttr)),
        Sample("getattr.request", .request, .getattr, id: 5, GetattrRequest(caller: alice, target: file, handle: 7)),
        Sample("setattr.request", .request, .setattr, id: 6,
               SetattrRequest(caller: alice, target: file, handle: 0, valid: [.mode, .size, .atime, .mtimeNow],
                              mode: 0o640, size: 10, atime: time)),
        Sample("readlink.request", .request, .readlink, id: 7, PathRequest(caller: alice, target: Target(export: 0, "srv/link"))),
        Sample("readlink.response", .response, .readlink, id: 7, ReadlinkReply(target: "../data/file.txt")),
        Sample("mknod.request", .request, .mknod, id: 8,
               MknodRequest(caller: alice, target: Target(export: 0, "srv/fifo"), mode: 0o010644, rdev: 0, umask: 0o022)),
        Sample("mkdir.request", .request, .mkdir, id: 9, MkdirRequest(caller: alice, target: Target(export: 0, "srv/new"), mode: 0o755, umask: 0o022)),
        Sample("unlink.request", .request, .unlink, id: 10, PathRequest(caller: alice, target: file)),
        Sample("rmdir.request", .request, .rmdir, id: 11, PathRequest(caller: alice, target: dir)),
        Sample("symlink.request", .request, .symlink, id: 12,
               SymlinkRequest(caller: alice, target: Target(export: 0, "srv/link"), linkTarget: "data/file.txt")),
        Sample("rename.request", .request, .rename, id: 13,
               TwoPathRequest(caller: alice, from: file, to: Target(export: 0, "srv/data/renamed"), flags: TwoPathRequest.renameNoReplace)),
        Sample("link.request", .request, .link, id: 14,
               TwoPathRequest(caller: alice, from: file, to: Target(export: 0, "srv/data/hardlink"))),
        Sample("open.request", .request, .open, id: 15, OpenRequest(caller: alice, target: file, flags: 0o2)),
        Sample("open.response", .response, .open, id: 15, OpenReply(handle: 7, flags: OpenReply.keepCache)),
        Sample("open_read.request", .request, .openRead, id: 16,
               OpenReadRequest(OpenRequest(caller: alice, target: file, flags: 0), maxBytes: 65536)),
        Sample("open_read.response", .response, .openRead, id: 16,
               OpenReadReply(OpenReply(handle: 8, flags: OpenReply.directIO | OpenReadReply.hasContent),
                             content: Array("Name:\tbash\n".utf8))),
        Sample("lookup_open.request", .request, .lookupOpen, id: 16,
               OpenReadRequest(OpenRequest(caller: alice, target: file, flags: 0), maxBytes: 65536)),
        Sample("lookup_open.response", .response, .lookupOpen, id: 16,
               LookupOpenReply(attr: fileAttr, opened: OpenReadReply(OpenReply(handle: 9, flags: OpenReadReply.hasContent),
                                                                     content: Array("hello qt".utf8)))),
        Sample("create.request", .request, .create, id: 16,
               CreateRequest(caller: alice, target: file, flags: 0o301, mode: 0o644, umask: 0o022)),
        Sample("create.response", .response, .create, id: 16, CreateReply(handle: 8, flags: 0, attr: fileAttr)),
        Sample("read.request", .request, .read, id: 17, ReadRequest(handle: 7, offset: 4096, size: 8)),
        Sample("read.response", .response, .read, id: 17, ReadReply(data: Array("hello qt".utf8))),
        Sample("write.request", .request, .write, id: 18, WriteRequest(handle: 7, offset: 0, data: Array("1\n".utf8))),
        Sample("write.response", .response, .write, id: 18, WriteReply(written: 2)),
        Sample("flush.request", .request, .flush, id: 19, HandleRequest(handle: 7)),
        Sample("fsync.request", .request, .fsync, id: 20, FsyncRequest(handle: 7, dataOnly: true)),
        Sample("release.request", .request, .release, id: 21, HandleRequest(handle: 7)),
        Sample("empty.response", .response, .release, id: 21, EmptyReply()),
        Sample("opendir.request", .request, .opendir, id: 22, PathRequest(caller: alice, target: dir)),
        Sample("opendir.response", .response, .opendir, id: 22, OpenReply(handle: 9, flags: 0)),
        Sample("readdir.request", .request, .readdir, id: 23, ReaddirRequest(handle: 9, cookie: 0, maxBytes: 65536, plus: true)),
        Sample("readdir.response", .response, .readdir, id: 23, ReaddirReply(eof: true, entries: [
            DirEntry(cookie: 1, ino: 131_073, type: 4, name: "."),
            DirEntry(cookie: 2, ino: 2, type: 4, name: ".."),
            DirEntry(cookie: 3, ino: 131_074, type: 8, name: "file.txt", attr: fileAttr),
        ])),
        Sample("releasedir.request", .request, .releasedir, id: 24, HandleRequest(handle: 9)),
        Sample("statfs.request", .request, .statfs, id: 25, PathRequest(caller: alice, target: dir)),
        Sample("statfs.response", .response, .statfs, id: 25,
               StatfsReply(blocks: 1_000_000, blocksFree: 500_000, blocksAvailable: 450_000, files: 65536,
                           filesFree: 60000, blockSize: 4096, fragmentSize: 4096, nameMax: 255, fsType: 0xEF53)),
        Sample("access.request", .request, .access, id: 26, AccessRequest(caller: alice, target: file, mask: 6)),
        Sample("getxattr.request", .request, .getxattr, id: 27, XattrGetRequest(caller: alice, target: file, name: "user.color", size: 64)),
        Sample("getxattr.response", .response, .getxattr, id: 27, XattrReply(size: 4, data: Array("blue".utf8))),
        Sample("setxattr.request", .request, .setxattr, id: 28,
               SetxattrRequest(caller: alice, target: file, name: "user.color", flags: 1, value: Array("blue".utf8))),
        Sample("listxattr.request", .request, .listxattr, id: 29, XattrGetRequest(caller: alice, target: file, name: "", size: 0)),
        Sample("listxattr.response", .response, .listxattr, id: 29, XattrReply(size: 11, data: [])),
        Sample("removexattr.request", .request, .removexattr, id: 30, RemovexattrRequest(caller: alice, target: file, name: "user.color")),
        Sample("lseek.request", .request, .lseek, id: 31, LseekRequest(handle: 7, offset: 4096, whence: 3)),
        Sample("lseek.response", .response, .lseek, id: 31, LseekReply(offset: 8192)),
        Sample("fallocate.request", .request, .fallocate, id: 32, FallocateRequest(handle: 7, mode: 0, offset: 0, length: 1 << 20)),
        Sample("cancel.request", .request, .cancel, id: 40, CancelRequest(target: 23)),
        Sample("cancel.response", .response, .cancel, id: 40, EmptyReply()),
        Sample("poll.request", .request, .poll, id: 41, PollRequest(handle: 7, events: 1, notify: true)),
        Sample("poll.response", .response, .poll, id: 41, PollReply(revents: 0)),
        Sample("pollready.event", .event, .pollReady, id: 0, PollReadyEvent(handle: 7, revents: 17)),
        Sample("sockconnect.request", .request, .sockConnect, id: 42,
               SockConnectRequest(caller: alice, path: Array("/run/containerd/containerd.sock".utf8), type: SockConnectRequest.stream)),
        Sample("socklisten.request", .request, .sockListen, id: 43,
               SockListenRequest(path: Array("/run/shim/abc.sock".utf8), type: SockConnectRequest.seqpacket)),
        Sample("sockincoming.event", .event, .sockIncoming, id: 0, SockTokenMessage(token: 9)),
        Sample("sockaccept.request", .request, .sockAccept, id: 1, SockTokenMessage(token: 9)),
        Sample("sockconnect-files.request", .request, .sockConnect, id: 44,
               SockConnectRequest(caller: alice, path: Array("/run/containerd/containerd.sock".utf8),
                                  type: SockConnectRequest.stream | SockConnectRequest.passFiles)),
    ]
}
