#!/usr/bin/env python3
"""Differential POSIX test: run the same operations, as root and as other users, in a
local directory and in a directory seen through qtfs, and report every difference in
results, errnos and stat fields.

    posix_diff.py LOCAL_DIR QTFS_DIR

Both directories must be empty, writable by root, and on file systems with user xattrs
(ext4, tmpfs). Exits 0 when both sides agree on every step, except the steps marked as a
documented difference (KNOWN_DIFFERENCES: qtfs must then give exactly the documented
result) or as a known defect (EXPECTED_FAILURES); 1 otherwise, also when a marked step
agrees (the mark is stale and must go).
"""
import ast
import ctypes
import errno
import hashlib
import os
import stat
import struct
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT = 1, 2, 4
AT_FDCWD = -100

# Users the steps run as: uid, gid, supplementary groups.
USERS = {
    "root": (0, 0, []),
    "alice": (1001, 1001, [1001, 2000]),
    "bob": (1002, 1002, [1002, 2000]),
    "carol": (1003, 2000, [2000]),
}


def renameat2(a, b, flags):
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def statinfo(st):
    """The stat fields that must match between local and remote."""
    kind = stat.S_IFMT(st.st_mode)
    size = st.st_size if kind in (stat.S_IFREG, stat.S_IFLNK) else None
    return {"type": kind, "perm": oct(stat.S_IMODE(st.st_mode)), "nlink": st.st_nlink,
            "uid": st.st_uid, "gid": st.st_gid, "size": size}


# Each operation takes absolute paths and returns a JSON-able value or raises OSError.
def op_stat(p): return statinfo(os.stat(p))
def op_lstat(p): return statinfo(os.lstat(p))
def op_mkdir(p, mode): os.mkdir(p, mode)
def op_rmdir(p): os.rmdir(p)
def op_unlink(p): os.unlink(p)
def op_chmod(p, mode): os.chmod(p, mode)
def op_chown(p, uid, gid): os.chown(p, uid, gid, follow_symlinks=False)
def op_truncate(p, n): os.truncate(p, n)
def op_link(a, b): os.link(a, b)
def op_symlink(target, p): os.symlink(target, p)
def op_readlink(p): return os.readlink(p)
def op_rename(a, b, flags=0): renameat2(a, b, flags)
def op_mkfifo(p, mode): os.mkfifo(p, mode)
def op_access(p, mode): return os.access(p, mode)
def op_listdir(p): return sorted(os.listdir(p))
def op_utime(p, a, m): os.utime(p, (a, m)); st = os.stat(p); return [int(st.st_atime), int(st.st_mtime)]
def op_same_ino(a, b): return os.stat(a).st_ino == os.stat(b).st_ino
def op_setxattr(p, n, v, flags=0): os.setxattr(p, n, v.encode(), flags)
def op_getxattr(p, n): return os.getxattr(p, n).decode()
def op_listxattr(p): return sorted(x for x in os.listxattr(p) if x.startswith("user."))
def op_removexattr(p, n): os.removexattr(p, n)


# security.capability, as setcap writes it: VFS_CAP_REVISION_2 with the effective bit,
# CAP_NET_RAW (13) permitted. The kernel removes it on any write to the file.
CAP_NET_RAW_EP = struct.pack("<5I", 0x02000001, 1 << 13, 0, 0, 0)
def op_setcap(p): os.setxattr(p, "security.capability", CAP_NET_RAW_EP)
def op_getcap(p): return os.getxattr(p, "security.capability").hex()


def op_create(p, mode, excl=True):
    flags = os.O_CREAT | os.O_WRONLY | (os.O_EXCL if excl else 0)
    os.close(os.open(p, flags, mode))


def op_write(p, data, flags=os.O_WRONLY | os.O_TRUNC):
    fd = os.open(p, flags)
    try:
        return os.write(fd, data.encode())
    finally:
        os.close(fd)


def op_append(p, data): return op_write(p, data, os.O_WRONLY | os.O_APPEND)


def op_read(p):
    with open(p, "rb") as f:
        data = f.read()
    return data.decode(errors="replace") if len(data) <= 64 else f"{len(data)} bytes sha256 {hashlib.sha256(data).hexdigest()[:16]}"


def op_open(p, flags): os.close(os.open(p, flags))


def op_pread(p, off, n):
    fd = os.open(p, os.O_RDONLY)
    try:
        return os.pread(fd, n, off).decode(errors="replace")
    finally:
        os.close(fd)


def op_ftruncate_after_chmod(p):
    """A file opened for writing stays truncatable after its mode drops write permission."""
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, b"0123456789")
        os.fchmod(fd, 0o444)
        os.ftruncate(fd, 3)
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def op_read_unlinked(p):
    """Data stays readable through an open fd after the name is removed."""
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, b"still here")
        os.unlink(p)
        return os.pread(fd, 100, 0).decode()
    finally:
        os.close(fd)


def op_sparse_seek(p):
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.pwrite(fd, b"x" * 4096, 1 << 20)
        data = os.lseek(fd, 0, os.SEEK_DATA)
        hole = os.lseek(fd, 1 << 20, os.SEEK_HOLE)
        try:
            os.lseek(fd, (1 << 20) + 8192, os.SEEK_DATA)
            past = "no error"
        except OSError as e:
            past = errno.errorcode[e.errno]
        return [data, hole, past]
    finally:
        os.close(fd)


def op_fallocate(p, n):
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.posix_fallocate(fd, 0, n)
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


# Timestamps: which of mtime and ctime an operation changed, as booleans (the absolute
# times differ between the two sides). The times are first set far in the past; ctime
# cannot be set, so TICK passes before the operation (more than the kernel's clock step).
OLD, TICK = 1_000_000_000, 0.05


def times(p):
    st = os.stat(p)
    return st.st_mtime_ns, st.st_ctime_ns


def aged(*paths):
    for p in paths:
        os.utime(p, (OLD, OLD))
    time.sleep(TICK)
    return [times(p) for p in paths]


def changed(before, p):
    after = times(p)
    return {"mtime": after[0] != before[0], "ctime": after[1] != before[1]}


def op_times_write(p):
    before = aged(p, os.path.dirname(p))
    op_write(p, "new content")
    now = abs(os.stat(p).st_mtime - time.time()) < 60
    return {"file": changed(before[0], p), "dir": changed(before[1], os.path.dirname(p)), "mtime is now": now}


def op_times_link(a, b):
    before = aged(a, os.path.dirname(b))
    os.link(a, b)
    return {"file": changed(before[0], a), "dir": changed(before[1], os.path.dirname(b))}


def op_times_rename(a, b):
    before = aged(a, os.path.dirname(a), os.path.dirname(b))
    os.rename(a, b)
    return {"file": changed(before[0], b), "from dir": changed(before[1], os.path.dirname(a)),
            "to dir": changed(before[2], os.path.dirname(b))}


def op_times_chmod(p, mode):
    before = aged(p)
    os.chmod(p, mode)
    return {"file": changed(before[0], p)}


def op_ino_stable(p, q):
    """A file keeps its st_ino through fstat, rename, chmod, and after the kernel forgot it."""
    op_create(p, 0o644)
    ino = os.stat(p).st_ino
    fd = os.open(p, os.O_RDONLY)
    seen = {"fstat": os.fstat(fd).st_ino == ino}
    os.close(fd)
    os.rename(p, q)
    seen["after rename"] = os.stat(q).st_ino == ino
    os.chmod(q, 0o600)
    seen["after chmod"] = os.stat(q).st_ino == ino
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("2")                  # unused dentries and inodes: FUSE sends FORGET
    seen["after the kernel forgot it"] = os.stat(q).st_ino == ino
    return seen


def op_same_inos(*paths): return len({os.stat(p).st_ino for p in paths}) == 1


class Mark:
    """Put in a step's arguments: the step is a known difference or a known defect."""
    def __init__(self, name): self.name = name
    def __repr__(self): return f"[{self.name}]"


def fifo_as_regular_file(local):
    kind, info = local
    return (kind, dict(info, type=stat.S_IFREG, size=0)) if kind == "ok" else local


# Deliberate, documented differences: name -> (where it is documented, qtfs's result as a
# function of the local one). qtfs must give exactly that result.
KNOWN_DIFFERENCES = {
    "fifo-shown-as-regular-file": (
        "docs/client.md, Differences from a local file system: a FUSE fifo node would be a "
        "local pipe, so host fifos show as regular files of size 0", fifo_as_regular_file),
}

# Known defects: steps that differ today, each with the reason. None at the moment; a
# marked step that agrees fails the test until its mark is removed.
EXPECTED_FAILURES = {}


LONG = "n" * 256
MAX = "m" * 255

# (user, operation, paths relative to the test dir..., other arguments...)
# Paths are the arguments that are strings starting with "@".
STEPS = [
    ("root", op_chmod, "@", 0o777),
    ("root", op_mkdir, "@d", 0o755),
    ("root", op_create, "@d/f", 0o644),
    ("root", op_create, "@d/f", 0o644),                     # EEXIST: O_EXCL is atomic
    ("root", op_write, "@d/f", "hello world\n"),
    ("root", op_read, "@d/f"),
    ("root", op_append, "@d/f", "more\n"),
    ("root", op_pread, "@d/f", 6, 5),
    ("root", op_stat, "@d/f"),
    ("root", op_truncate, "@d/f", 5),
    ("root", op_read, "@d/f"),
    ("root", op_truncate, "@d/f", 100000),
    ("root", op_stat, "@d/f"),
    ("root", op_utime, "@d/f", 1000000000, 1200000000),
    ("root", op_chmod, "@d/f", 0o600),
    ("alice", op_read, "@d/f"),                             # EACCES for another user
    ("alice", op_access, "@d/f", os.R_OK),
    ("root", op_access, "@d/f", os.R_OK | os.W_OK),
    ("root", op_chown, "@d/f", 1001, 2000),
    ("alice", op_read, "@d/f"),
    ("alice", op_chmod, "@d/f", 0o640),
    ("bob", op_chmod, "@d/f", 0o666),                       # EPERM: not the owner
    ("bob", op_read, "@d/f"),                               # group 2000 may read
    ("carol", op_read, "@d/f"),
    ("alice", op_chown, "@d/f", 1002, 2000),                # EPERM
    ("alice", op_create, "@d/alice-file", 0o644),           # EACCES: dir is root 0755
    ("root", op_mkdir, "@shared", 0o1777),
    ("root", op_chmod, "@shared", 0o1777),
    ("alice", op_create, "@shared/a", 0o644),
    ("alice", op_stat, "@shared/a"),                        # owned by alice
    ("bob", op_unlink, "@shared/a"),                        # EPERM: sticky directory
    ("bob", op_rename, "@shared/a", "@shared/b"),           # EPERM: sticky directory
    ("alice", op_rename, "@shared/a", "@shared/b"),
    ("alice", op_unlink, "@shared/b"),
    ("root", op_mkdir, "@sgid", 0o2775),
    ("root", op_chown, "@sgid", 0, 2000),
    ("root", op_chmod, "@sgid", 0o2775),
    ("root", op_create, "@sgid/inherit", 0o644),
    ("root", op_stat, "@sgid/inherit"),                     # gid 2000 from the setgid dir
    ("root", op_mkdir, "@sgid/sub", 0o755),
    ("root", op_stat, "@sgid/sub"),                         # setgid bit inherited
    ("root", op_mkdir, "@d", 0o755),                        # EEXIST
    ("root", op_rmdir, "@d"),                               # ENOTEMPTY
    ("root", op_rmdir, "@d/f"),                             # ENOTDIR
    ("root", op_unlink, "@d"),                              # EISDIR
    ("root", op_stat, "@missing"),                          # ENOENT
    ("root", op_create, "@d/" + LONG, 0o644),               # ENAMETOOLONG
    ("root", op_create, "@d/" + MAX, 0o644),
    ("root", op_listdir, "@d"),
    ("root", op_unlink, "@d/" + MAX),
    ("root", op_create, "@d/g", 0o644),
    ("root", op_link, "@d/g", "@d/g2"),
    ("root", op_same_ino, "@d/g", "@d/g2"),
    ("root", op_stat, "@d/g"),                              # nlink 2
    ("root", op_link, "@d/g", "@d/g2"),                     # EEXIST
    ("root", op_unlink, "@d/g2"),
    ("root", op_stat, "@d/g"),                              # nlink 1
    ("root", op_symlink, "g", "@d/s"),
    ("root", op_readlink, "@d/s"),
    ("root", op_lstat, "@d/s"),
    ("root", op_stat, "@d/s"),                              # follows to g
    ("root", op_symlink, "/nonexistent/target", "@d/abs"),
    ("root", op_readlink, "@d/abs"),                        # contents verbatim
    ("root", op_symlink, "loop2", "@d/loop1"),
    ("root", op_symlink, "loop1", "@d/loop2"),
    ("root", op_open, "@d/loop1", os.O_RDONLY),             # ELOOP
    ("root", op_open, "@d/s", os.O_RDONLY | os.O_NOFOLLOW), # ELOOP
    ("root", op_create, "@d/r1", 0o644),
    ("root", op_create, "@d/r2", 0o644),
    ("root", op_write, "@d/r1", "one"),
    ("root", op_write, "@d/r2", "two"),
    ("root", op_rename, "@d/r1", "@d/r2", RENAME_NOREPLACE),  # EEXIST
    ("root", op_rename, "@d/r1", "@d/r2", RENAME_EXCHANGE),
    ("root", op_read, "@d/r1"),
    ("root", op_read, "@d/r2"),
    ("root", op_rename, "@d/r1", "@d/r3", RENAME_EXCHANGE),   # ENOENT
    ("root", op_rename, "@d/r1", "@d/r2"),
    ("root", op_listdir, "@d"),
    ("root", op_create, "@d/w1", 0o644),
    ("alice", op_rename, "@d/w1", "@d/w2", RENAME_WHITEOUT),  # EPERM: needs CAP_MKNOD
    ("root", op_rename, "@d/w1", "@d/w2", RENAME_WHITEOUT),   # overlayfs's upper layer does this
    ("root", op_lstat, "@d/w1"),                              # the whiteout: a character device
    ("root", op_unlink, "@d/w1"),
    ("root", op_unlink, "@d/w2"),
    ("root", op_mkdir, "@e", 0o755),
    ("root", op_rename, "@d/r2", "@e"),                     # EISDIR
    ("root", op_rename, "@e", "@d"),                        # ENOTEMPTY
    ("root", op_rename, "@e", "@d/e"),
    ("root", op_rename, "@d", "@d/e/inside"),               # EINVAL: into itself
    ("root", op_mkfifo, "@d/fifo", 0o640),
    ("root", op_lstat, "@d/fifo", Mark("fifo-shown-as-regular-file")),
    ("root", op_setxattr, "@d/g", "user.color", "blue"),
    ("root", op_setxattr, "@d/g", "user.color", "red", os.XATTR_CREATE),  # EEXIST
    ("root", op_setxattr, "@d/g", "user.size", "big", os.XATTR_REPLACE),  # ENODATA
    ("root", op_getxattr, "@d/g", "user.color"),
    ("root", op_listxattr, "@d/g"),
    ("root", op_removexattr, "@d/g", "user.color"),
    ("root", op_getxattr, "@d/g", "user.color"),            # ENODATA
    ("root", op_create, "@d/capped", 0o755),
    ("root", op_getcap, "@d/capped"),                       # ENODATA (qtfs-fuse remembers it)
    ("root", op_setcap, "@d/capped"),
    ("root", op_getcap, "@d/capped"),                       # the new value, not the remembered absence
    ("root", op_append, "@d/capped", "x"),
    ("root", op_getcap, "@d/capped"),                       # ENODATA: a write removes it
    ("root", op_setcap, "@d/capped"),
    ("root", op_ftruncate_after_chmod, "@d/ro"),
    ("root", op_read_unlinked, "@d/gone"),
    ("root", op_sparse_seek, "@d/sparse"),
    ("root", op_fallocate, "@d/alloc", 65536),
    ("root", op_mkdir, "@priv", 0o700),
    ("alice", op_listdir, "@priv"),                         # EACCES
    ("alice", op_stat, "@priv/x"),                          # EACCES
    ("root", op_chmod, "@d", 0o777),
    ("alice", op_create, "@d/alice-owned", 0o666),
    ("alice", op_stat, "@d/alice-owned"),                   # 0644 after umask 022
    ("alice", op_mkdir, "@d/alice-dir", 0o777),
    ("alice", op_stat, "@d/alice-dir"),
    ("bob", op_rmdir, "@d/alice-dir"),                      # allowed: d is 0777, not sticky
    ("root", op_listdir, "@d"),
    # Timestamps after writes, link, rename and chmod; st_ino stability.
    ("root", op_mkdir, "@t", 0o755),
    ("root", op_mkdir, "@t/to", 0o755),
    ("root", op_create, "@t/f", 0o644),
    ("root", op_times_write, "@t/f"),                      # file mtime+ctime, not the dir's
    ("root", op_times_link, "@t/f", "@t/f2"),              # file ctime only, dir both
    ("root", op_times_rename, "@t/f2", "@t/to/f3"),        # file ctime, both dirs
    ("root", op_times_chmod, "@t/f", 0o640),               # ctime only
    ("root", op_ino_stable, "@t/ino", "@t/to/ino2"),
    # Hard links: the names of one inode show one file, at once.
    ("root", op_mkdir, "@h", 0o755),
    ("root", op_create, "@h/a", 0o644),
    ("root", op_write, "@h/a", "first"),
    ("root", op_link, "@h/a", "@h/b"),
    ("root", op_stat, "@h/a"),                              # nlink 2
    ("root", op_link, "@h/b", "@h/c"),
    ("root", op_stat, "@h/a"),                              # nlink 3
    ("root", op_same_inos, "@h/a", "@h/b", "@h/c"),
    ("root", op_chmod, "@h/b", 0o600),
    ("root", op_stat, "@h/a"),                              # mode 0600
    ("root", op_read, "@h/a"),
    ("root", op_write, "@h/c", "second"),
    ("root", op_read, "@h/a"),                              # written through c
    ("root", op_unlink, "@h/c"),
    ("root", op_stat, "@h/b"),                              # nlink 2
    ("root", op_unlink, "@h/a"),
    ("root", op_stat, "@h/b"),                              # nlink 1
]


def mark_of(step):
    marks = [a.name for a in step if isinstance(a, Mark)]
    return marks[0] if marks else None


def run_step(base, step):
    user, fn, *args = [a for a in step if not isinstance(a, Mark)]
    args = [os.path.join(base, a[1:]) if isinstance(a, str) and a.startswith("@") else a for a in args]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            uid, gid, groups = USERS[user]
            os.setgroups(groups)
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            os.umask(0o022)
            result = repr(("ok", fn(*args)))
        except OSError as e:
            result = repr(("error", errno.errorcode.get(e.errno, str(e.errno))))
        except Exception as e:  # a bug in the step itself
            result = repr(("exception", type(e).__name__, str(e)))
        os.write(w, result.encode())
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


def describe(step):
    user, fn, *args = [a for a in step if not isinstance(a, Mark)]
    shown = [a if not (isinstance(a, str) and len(a) > 40) else a[:12] + "..." for a in args]
    return f"{user}: {fn.__name__[3:]}({', '.join(map(str, shown))})"


def verdict(step, local, remote):
    """(counts as a difference?, what to print or None) for one step's two results."""
    mark = mark_of(step)
    if mark in KNOWN_DIFFERENCES:
        where, expected = KNOWN_DIFFERENCES[mark]
        want = repr(expected(ast.literal_eval(local)))
        if ast.literal_eval(remote) == ast.literal_eval(want):
            return False, f"KNOWN difference [{mark}]: {where}"
        return True, f"DIFF [{mark}] qtfs should show the documented difference\n    want: {want}"
    if mark in EXPECTED_FAILURES:
        if local != remote:
            return False, f"EXPECTED FAILURE [{mark}]: {EXPECTED_FAILURES[mark]}"
        return True, f"FIXED [{mark}]: both sides agree; remove it from EXPECTED_FAILURES"
    return (True, "DIFF") if local != remote else (False, None)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    local, remote = sys.argv[1], sys.argv[2]
    differences = 0
    for i, step in enumerate(STEPS):
        a, b = run_step(local, step), run_step(remote, step)
        bad, note = verdict(step, a, b)
        differences += bad
        if note:
            print(f"{note}\n  step {i} {describe(step)}\n   local: {a}\n    qtfs: {b}")
    print(f"posix_diff: {len(STEPS)} steps, {differences} differences")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
