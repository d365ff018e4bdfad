// struct stat → wire Attr, with pseudo file system detection by statfs magic per st_dev.
import Glibc
internal import CQtfsSys
import QtfsProtocol
import QtfsSystem

/// What kind of file system a device holds, as far as serving it goes.
enum FsKind {
    /// proc, sysfs, cgroup…: sizes mean nothing, content changes on every read.
    case pseudo
    /// tmpfs, ramfs: reads and writes copy memory and never wait for a device.
    case memory
    /// ext2/3/4, xfs, btrfs, f2fs: a block device of this machine; metadata calls wait for
    /// it only on a cache miss or a busy journal, never for another machine.
    case localDisk
    /// Anything else (NFS, FUSE, overlay, a file system not listed): a call may wait for
    /// another machine or process.
    case ordinary
}

/// The file system kind of each st_dev, found by statfs magic the first time it is seen.
final class PseudoCache: @unchecked Sendable {
    /// statfs f_type of proc, sysfs, cgroup, cgroup2, debugfs, tracefs, securityfs, configfs, bpf.
    static let magics: Set<Int> = [procMagic, 0x6265_6572, 0x27e0eb, 0x6367_7270, 0x6467_6720,
                                   0x7472_6163, 0x7363_6673, 0x6265_6570, 0xcafe_4a11]
    static let procMagic = 0x9fa0
    /// TMPFS_MAGIC, RAMFS_MAGIC.
    static let memoryMagics: Set<Int> = [0x0102_1994, 0x8584_58f6]
    /// EXT2/3/4_SUPER_MAGIC, XFS_SB_MAGIC, BTRFS_SUPER_MAGIC, F2FS_SUPER_MAGIC.
    static let localDiskMagics: Set<Int> = [0xef53, 0x5846_5342, 0x9123_683e, 0xf2f5_2010]
    private let lock = Lock()
    private var byDev: [UInt64: Int] = [:]   // statfs magic (a dev whose probe failed is asked again)

    /// The statfs magic of `dev`; `probe` (gives any fd on that file system, O_PATH is fine,
    /// which is closed after) is only called the first time a dev is seen.
    func magic(dev: UInt64, probe: () -> Int32) -> Int {
        if let known = lock.withLock({ byDev[dev] }) { return known }
        let fd = probe()
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var sfs = statfs()
        guard fstatfs(fd, &sfs) == 0 else { return 0 }
        let magic = Int(sfs.f_type)
        lock.withLock { byDev[dev] = magic }
        return magic
    }

    static func kind(magic: Int) -> FsKind {
        if magics.contains(magic) { return .pseudo }
        if memoryMagics.contains(magic) { return .memory }
        return localDiskMagics.contains(magic) ? .localDisk : .ordinary
    }

    func kind(dev: UInt64, probe: () -> Int32) -> FsKind { Self.kind(magic: magic(dev: dev, probe: probe)) }
    func isPseudo(dev: UInt64, probe: () -> Int32) -> Bool { kind(dev: dev, probe: probe) == .pseudo }

    /// Same, for a file known by an open fd.
    func kind(dev: UInt64, fd: Int32) -> FsKind { kind(dev: dev) { dup(fd) } }
    func isPseudo(dev: UInt64, fd: Int32) -> Bool { kind(dev: dev, fd: fd) == .pseudo }

    /// The statfs magic of the file system an open fd (a directory, say) lives on.
    func magic(of fd: Int32) -> Int {
        var st = stat()
        return fstat(fd, &st) == 0 ? magic(dev: UInt64(st.st_dev)) { dup(fd) } : 0
    }

    /// The kind of the file system an open fd lives on.
    func kind(of fd: Int32) -> FsKind { Self.kind(magic: magic(of: fd)) }
}

enum Stat {
    static func at(_ dir: Int32, _ name: UnsafePointer<CChar>) throws -> stat {
        var st = stat()
        try sys("fstatat") { fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) }
        return st
    }

    static func fd(_ fd: Int32) throws -> stat {
        var st = stat()
        try sys("fstat") { fstat(fd, &st) }
        return st
    }

    static func attr(_ st: stat, pseudo: Bool) -> Attr {
        Attr(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino), size: UInt64(max(0, st.st_size)),
             blocks: UInt64(max(0, st.st_blocks)), rdev: UInt64(st.st_rdev), mode: st.st_mode,
             nlink: UInt32(truncatingIfNeeded: st.st_nlink), uid: st.st_uid, gid: st.st_gid,
             blksize: UInt32(truncatingIfNeeded: st.st_blksize), flags: pseudo ? Attr.flagPseudo : 0,
             atime: time(st.st_atim), mtime: time(st.st_mtim), ctime: time(st.st_ctim))
    }

    static func time(_ t: timespec) -> Timespec {
        Timespec(seconds: Int64(t.tv_sec), nanoseconds: UInt32(truncatingIfNeeded: t.tv_nsec))
    }

    static func type(_ mode: UInt32) -> UInt32 { mode & 0o170000 }   // S_IFMT
}

extension PseudoCache {
    /// Attributes of `name` in `dir`, without following a symlink.
    func attr(_ dir: Int32, _ name: UnsafePointer<CChar>) throws -> Attr {
        let st = try Stat.at(dir, name)
        let pseudo = isPseudo(dev: UInt64(st.st_dev)) { openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC) }
        return Stat.attr(st, pseudo: pseudo)
    }

    func attr(fd: Int32) throws -> Attr {
        let st = try Stat.fd(fd)
        return Stat.attr(st, pseudo: isPseudo(dev: UInt64(st.st_dev), fd: fd))
    }
}
