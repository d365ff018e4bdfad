#!/usr/bin/env python3
"""Confinement: hostile requests from a raw protocol client, each refused with the right
errno (`..`, absolute paths, symlinks absolute and relative, /proc magic links, bind
mounts, overlong and NUL-bearing names, bad handles and export ids), then a race that
swaps a directory and a symlink to the outside (renameat2 RENAME_EXCHANGE) while three
connections keep opening and reading through it: nothing outside the export is reached."""
import ctypes, os, struct, subprocess, sys, tempfile, threading, shutil
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtfs_raw import E, Checks, Client, Server, bytes16, caller, target

check = Checks()
work = tempfile.mkdtemp(prefix="qtfs-confine.")
EX = os.path.join(work, "export")
OUT = os.path.join(work, "outside")
for d in ("dir/sub", "swapdir", "mnt", "real/inner"):
    os.makedirs(os.path.join(EX, d), exist_ok=True)
os.makedirs(OUT)
open(os.path.join(OUT, "secret"), "w").write("OUTSIDE")
open(os.path.join(EX, "dir/file"), "w").write("inside")
open(os.path.join(EX, "swapdir/secret"), "w").write("inside")
os.symlink("/etc", os.path.join(EX, "escape"))
os.symlink(OUT, os.path.join(EX, "out"))
os.symlink("..", os.path.join(EX, "dir/up"))
os.symlink("../../outside", os.path.join(EX, "dir/rel"))
os.symlink("/nonexistent-qtfs", os.path.join(EX, "dangle"))
os.symlink("/proc/self/root", os.path.join(EX, "procroot"))
os.symlink(OUT, os.path.join(EX, "swaplink"))
# A bind mount of a directory outside the export's own tree, and an export that is itself
# a bind mount of a subdirectory (its ".." is not the real parent).
BEX = os.path.join(work, "bindexport")
os.makedirs(BEX)
srv = None

def cleanup():
    if srv: srv.stop()
    for m in (os.path.join(EX, "mnt"), BEX):
        subprocess.run(["umount", "-l", m], check=False, stderr=subprocess.DEVNULL)

try:
    subprocess.run(["mount", "--bind", OUT, os.path.join(EX, "mnt")], check=True)
    subprocess.run(["mount", "--bind", os.path.join(EX, "real/inner"), BEX], check=True)
    srv = Server([EX, "/proc", BEX], work=work)
    pid = srv.proc.pid
    c = Client(srv.port, srv.key, EX)
    other = Client(srv.port, srv.key, EX)
    U = lambda *a: struct.pack("<" + "I" * len(a), *a)
    # Per operation, the bytes after `caller target` (valid values: only the path is hostile).
    ops = {
        "lookup": b"", "getattr": struct.pack("<Q", 0), "readlink": b"", "unlink": b"", "rmdir": b"",
        "mkdir": U(0o755, 0), "mknod": struct.pack("<IQI", 0o100644, 0, 0), "symlink": bytes16(b"x"),
        "open": U(os.O_RDONLY), "create": U(os.O_RDWR | os.O_EXCL, 0o644, 0), "opendir": b"", "statfs": b"",
        "access": U(4), "getxattr": bytes16(b"user.x") + U(64), "listxattr": bytes16(b"") + U(64),
        "setxattr": bytes16(b"user.x") + U(0) + struct.pack("<I", 1) + b"v", "removexattr": bytes16(b"user.x"),
        "setattr": struct.pack("<QIIIIQqIqI", 0, 1, 0o644, 0, 0, 0, 0, 0, 0, 0),
    }
    hostile = [
        (b"..", "EINVAL"), (b"dir/..", "EINVAL"), (b"dir/../../etc/passwd", "EINVAL"), (b"/etc/passwd", "EINVAL"),
        (b"dir//file", "EINVAL"), (b"./dir", "EINVAL"), (b"dir/fi\0le", "EINVAL"),
        (b"escape/passwd", "ELOOP"), (b"out/secret", "ELOOP"), (b"dir/up/dir/file", "ELOOP"),
        (b"dir/rel/secret", "ELOOP"), (b"procroot/etc/passwd", "ELOOP"), (b"dangle/x", "ELOOP"),
        (b"dir/" + b"n" * 256, "ENAMETOOLONG"),
    ]
    for op, extra in ops.items():
        for path, errno in hostile:
            got = c.path(op, path, extra)
            check(f"{op} {path[:40]!r}: {errno}", got == E[errno])
    # Over 4095 bytes the decoder itself refuses the path.
    long_path = b"/".join([b"d" * 200] * 21)
    for op in ("lookup", "open", "mkdir"):
        check(f"{op} path of {len(long_path)} bytes: ENAMETOOLONG", c.path(op, long_path, ops[op]) == E["ENAMETOOLONG"])

    # The last component a symlink: never followed.
    check("open symlink to /etc: ELOOP", c.path("open", b"escape", U(os.O_RDONLY)) == E["ELOOP"])
    check("open symlink to outside file: ELOOP", c.path("open", b"out", U(os.O_RDONLY)) == E["ELOOP"])
    check("opendir symlink to /etc: ENOTDIR", c.path("opendir", b"escape") == E["ENOTDIR"])
    check("create through dangling symlink: ELOOP", c.path("create", b"dangle", U(os.O_RDWR, 0o644, 0)) == E["ELOOP"])
    check("... and nothing was created outside", not os.path.exists("/nonexistent-qtfs"))
    check("create O_EXCL on a symlink: EEXIST", c.path("create", b"escape", U(os.O_RDWR | os.O_EXCL, 0o644, 0)) == E["EEXIST"])
    check("open O_TRUNC on a symlink: ELOOP", c.path("open", b"out", U(os.O_WRONLY | os.O_TRUNC)) == E["ELOOP"])
    check("getxattr of a symlink: ENODATA (not the target's)", c.path("getxattr", b"escape", ops["getxattr"]) == E["ENODATA"])
    check("setxattr on a symlink: EPERM", c.path("setxattr", b"escape", ops["setxattr"]) == E["EPERM"])
    check("mkdir over a symlink: EEXIST", c.path("mkdir", b"escape", ops["mkdir"]) == E["EEXIST"])

    # Renames and links whose second path is hostile.
    two = lambda op, a, b, flags=0, ex=0: c.status(op, caller() + target(a) + target(b, ex) + U(flags))
    for op in ("rename", "link"):
        check(f"{op} to '../x': EINVAL", two(op, b"dir/file", b"../x") == E["EINVAL"])
        check(f"{op} to /tmp/x: EINVAL", two(op, b"dir/file", b"/tmp/x") == E["EINVAL"])
        check(f"{op} into symlink to outside: ELOOP", two(op, b"dir/file", b"out/stolen") == E["ELOOP"])
        check(f"{op} into '..' symlink: ELOOP", two(op, b"dir/file", b"dir/up/x") == E["ELOOP"])
        check(f"{op} from outside via symlink: ELOOP", two(op, b"out/secret", b"dir/got") == E["ELOOP"])
        check(f"{op} to another export: EXDEV", two(op, b"dir/file", b"x", ex=1) == E["EXDEV"])
        check(f"{op} to an unknown export: EXDEV", two(op, b"dir/file", b"x", ex=9) == E["EXDEV"])
    check("rename with both flags: EINVAL", two("rename", b"dir/file", b"dir/f2", flags=3) == E["EINVAL"])
    check("nothing moved outside", os.listdir(OUT) == ["secret"])
    check("symlink with NUL in contents: EINVAL", c.path("symlink", b"dir/l", bytes16(b"/etc\0x")) == E["EINVAL"])
    check("xattr name with NUL: EINVAL", c.path("getxattr", b"dir/file", bytes16(b"user.\0x") + U(64)) == E["EINVAL"])

    # /proc (export 1): magic links are never followed.
    P = lambda op, p, extra=b"": c.status(op, caller() + target(p, 1) + extra)
    for p in (b"self/root/etc/passwd", b"1/root/etc/passwd", b"1/cwd/etc", b"thread-self/root/etc",
              f"{pid}/root/etc".encode(), f"{pid}/fd/0/x".encode(), b"1/root"):
        expect = "ELOOP"
        check(f"/proc {p.decode()}: {expect}", P("lookup", p) == E[expect] if p != b"1/root" else P("open", p, U(os.O_RDONLY)) == E[expect])
    check("/proc 1/exe open: ELOOP", P("open", b"1/exe", U(os.O_RDONLY)) == E["ELOOP"])
    check("/proc 1/root opendir: ENOTDIR", P("opendir", b"1/root") == E["ENOTDIR"])
    check("/proc self/fd listing through the link: ELOOP", P("opendir", b"self/fd") == E["ELOOP"])
    check(f"/proc {pid}/fd/<n> open: ELOOP", P("open", f"{pid}/fd/0".encode(), U(os.O_RDONLY)) == E["ELOOP"])

    # Bind mounts: the mount inside the export serves its content; its ".." never leads out.
    check("bind mount content is served", c.path("lookup", b"mnt/secret") == 0)
    check("'..' through a bind mount: EINVAL", c.path("lookup", b"mnt/../../outside/secret") == E["EINVAL"])
    B = lambda op, p, extra=b"": c.status(op, caller() + target(p, 2) + extra)
    check("bind-mounted export root is served", B("lookup", b"") == 0)
    check("bind-mounted export: '..' EINVAL", B("lookup", b"../inner") == E["EINVAL"])
    check("bind-mounted export: sibling of the real dir unreachable", B("lookup", b"..") == E["EINVAL"])

    # Handles: unknown, another connection's, wrong kind.
    st, body = c.call("open", caller() + target(b"dir/file") + U(os.O_RDONLY))
    fh = struct.unpack("<Q", body[:8])[0]
    st, body = c.call("opendir", caller() + target(b"dir"))
    dh = struct.unpack("<Q", body[:8])[0]
    for name, op, payload, errno in [
            ("read unknown handle", "read", struct.pack("<QQI", 987654, 0, 16), "EBADF"),
            ("read handle 0", "read", struct.pack("<QQI", 0, 0, 16), "EBADF"),
            ("write unknown handle", "write", struct.pack("<QQ", 987654, 0) + b"x", "EBADF"),
            ("fsync unknown handle", "fsync", struct.pack("<QI", 987654, 0), "EBADF"),
            ("lseek unknown handle", "lseek", struct.pack("<QqI", 987654, 0, 0), "EBADF"),
            ("fallocate unknown handle", "fallocate", struct.pack("<QIQQ", 987654, 0, 0, 1), "EBADF"),
            ("readdir unknown handle", "readdir", struct.pack("<QQII", 987654, 0, 4096, 0), "EBADF"),
            ("release unknown handle", "release", struct.pack("<Q", 987654), "EBADF"),
            ("releasedir unknown handle", "releasedir", struct.pack("<Q", 987654), "EBADF"),
            ("flush unknown handle", "flush", struct.pack("<Q", 987654), "EBADF"),
            ("getattr unknown handle", "getattr", caller() + target(b"dir/file") + struct.pack("<Q", 987654), "EBADF"),
            ("read a directory handle", "read", struct.pack("<QQI", dh, 0, 16), "EISDIR"),
            ("write a directory handle", "write", struct.pack("<QQ", dh, 0) + b"x", "EISDIR"),
            ("write a read-only handle", "write", struct.pack("<QQ", fh, 0) + b"x", "EBADF"),
            ("read at offset 2^63", "read", struct.pack("<QQI", fh, 1 << 63, 16), "EINVAL")]:
        check(f"{name}: {errno}", c.status(op, payload) == E[errno])
    for name, op, payload in [("read", "read", struct.pack("<QQI", fh, 0, 16)),
                              ("readdir", "readdir", struct.pack("<QQII", dh, 0, 4096, 0)),
                              ("release", "release", struct.pack("<Q", fh))]:
        check(f"another connection's handle ({name}): EBADF", other.status(op, payload) == E["EBADF"])
    for ex in (3, 0xFFFFFFFF):
        check(f"export id {ex}: EINVAL", c.status("lookup", caller() + target(b"dir", ex)) == E["EINVAL"])
    for p, errno in [(b"/nonexistent-export", "EACCES"), (b"relative/path", "EINVAL"), (EX.encode() + b"/../outside", "EINVAL")]:
        check(f"MOUNT {p.decode()}: {errno}", c.status("mount", caller() + bytes16(p)) == E[errno])
    # MOUNT follows the symlinks of its host path while each step stays inside an export
    # (/proc is one here: /proc/self/root's text "/" then leads out of them).
    base = lambda body: body[6:6 + struct.unpack("<H", body[4:6])[0]]
    for p in (b"escape", b"out", b"dir/rel", b"dangle", b"procroot", b"dir/up/out"):
        check(f"MOUNT through symlink {p.decode()} leading out: EACCES",
              c.status("mount", caller() + bytes16(EX.encode() + b"/" + p)) == E["EACCES"])
    st, body = c.call("mount", caller() + bytes16(EX.encode() + b"/dir/up/real/inner"))
    check("MOUNT through a symlink staying inside: attached at the real place", st == 0 and base(body) == b"real/inner")
    check("precondition: /var/run is a symlink to /run", os.path.realpath("/var/run") == "/run")
    root_srv = Server(["/"], work=tempfile.mkdtemp(prefix="root-export.", dir=work))
    st, body = Client(root_srv.port, root_srv.key, "/").call("mount", caller() + bytes16(b"/var/run"))
    root_srv.stop()
    check("export /: MOUNT /var/run attaches /run", st == 0 and base(body) == b"run")
    check("server alive after the hostile requests", srv.alive())

    # The race: swap a directory inside and a symlink to the outside while requests run.
    libc = ctypes.CDLL(None, use_errno=True)
    a, b = os.path.join(EX, "swapdir").encode(), os.path.join(EX, "swaplink").encode()
    stop = threading.Event()
    swaps = [0]
    def swapper():
        while not stop.is_set():
            if libc.renameat2(-100, a, -100, b, 2) == 0: swaps[0] += 1
    results = {"inside": 0, "outside": 0, "refused": 0, "bad read": 0}
    lock = threading.Lock()
    def reader():
        cl = Client(srv.port, srv.key, EX)
        for i in range(1500):
            st, body = cl.call("open", caller() + target(b"swapdir/secret") + U(os.O_RDONLY))
            if st != 0:
                with lock: results["refused"] += 1
                continue
            h = struct.unpack("<Q", body[:8])[0]
            st, data = cl.call("read", struct.pack("<QQI", h, 0, 64))
            cl.call("release", struct.pack("<Q", h))
            # An opened handle is a file already reached: its read must succeed with its bytes.
            seen = {b"inside": "inside", b"OUTSIDE": "outside"}.get(data) if st == 0 else None
            with lock: results[seen or "bad read"] += 1
    t = threading.Thread(target=swapper); t.start()
    readers = [threading.Thread(target=reader) for _ in range(3)]
    for r in readers: r.start()
    for r in readers: r.join()
    stop.set(); t.join()
    print(f"race: {swaps[0]} swaps, {results}")
    check("race: the swap really happened", swaps[0] > 0)
    check("race: reads went through the real directory", results["inside"] > 0)
    check("race: the symlink was met and refused", results["refused"] > 0)
    check("race: nothing outside the export was ever read", results["outside"] == 0)
    check("race: every opened handle read its file's bytes", results["bad read"] == 0)
    check("server alive after the race", srv.alive())
finally:
    cleanup()
    shutil.rmtree(work, ignore_errors=True)   # every mount above was of a directory in work
check.exit()
