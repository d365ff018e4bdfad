#!/usr/bin/env python3
"""The whitelist (upstream /etc/qtfs/whitelist format) against the real server: every
gated operation is allowed beneath a listed directory and refused (EACCES, logged)
elsewhere — including symlink, link, rename's target, xattr get/list and MOUNT — and
matching follows the location: a listed path given through a symlink or a bind mount
counts, a listed path's string prefix does not."""
import os, struct, subprocess, sys, tempfile, shutil
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtfs_raw import BIN, E, Checks, Client, Server, bytes16, caller, connect, recv_frame, frame, OP, target

check = Checks()
work = tempfile.mkdtemp(prefix="qtfs-wl.")
os.environ["QTFS_CONTROL_DIR"] = os.path.join(work, "ctl")   # private control sockets for qtinfo
EX = os.path.join(work, "export")
for d in ("ok/sub", "no/sub", "okay-not", "bindno"):
    os.makedirs(os.path.join(EX, d))
for d in ("ok", "no", "okay-not"):
    open(os.path.join(EX, d, "f"), "w").write("x")
    os.setxattr(os.path.join(EX, d, "f"), "user.t", b"1")
os.symlink(os.path.join(EX, "ok"), os.path.join(work, "oklink"))   # a listed path given as a symlink
wl = os.path.join(work, "whitelist")
kinds = ["Open", "Write", "Read", "Readdir", "Mkdir", "Rmdir", "Create", "Unlink", "Rename", "Setattr", "Setxattr"]
with open(wl, "w") as f:
    f.write("# upstream format\n")
    for k in kinds:
        f.write(f"[{k}]\nPath={work}/oklink;/var/lib/libvirt/qemu\n")   # second entry: absent path
    f.write(f"[Mount]\nPath={EX}\n[Kill]\nPath=qemu-kvm\n")
srv = None
try:
    subprocess.run(["mount", "--bind", os.path.join(EX, "no"), os.path.join(EX, "bindno")], check=True)
    srv = Server([EX], extra=["--whitelist", wl], work=work)
    c = Client(srv.port, srv.key, EX)
    U = lambda *a: struct.pack("<" + "I" * len(a), *a)
    def ops(d):
        """(name, op, payload, cleanup-free) for one directory: every gated operation."""
        p = lambda s: caller() + target(f"{d}/{s}".encode())
        return [
            ("open read", "open", p("f") + U(os.O_RDONLY)),
            ("open write", "open", p("f") + U(os.O_WRONLY)),
            ("create", "create", p("new") + U(os.O_RDWR | os.O_EXCL, 0o644, 0)),
            ("mknod", "mknod", p("fifo") + struct.pack("<IQI", 0o010644, 0, 0)),
            ("mkdir", "mkdir", p("nd") + U(0o755, 0)),
            ("rmdir", "rmdir", p("sub")),
            ("symlink", "symlink", p("ln") + bytes16(b"f")),
            ("opendir", "opendir", caller() + target(d.encode())),
            ("setattr", "setattr", p("f") + struct.pack("<QIIIIQqIqI", 0, 1, 0o640, 0, 0, 0, 0, 0, 0, 0)),
            ("getxattr", "getxattr", p("f") + bytes16(b"user.t") + U(64)),
            ("listxattr", "listxattr", p("f") + bytes16(b"") + U(256)),
            ("setxattr", "setxattr", p("f") + bytes16(b"user.u") + U(0) + struct.pack("<I", 1) + b"v"),
            ("removexattr", "removexattr", p("f") + bytes16(b"user.t")),
            ("unlink", "unlink", p("f")),
        ]
    for name, op, payload in ops("no"):
        check(f"{name} outside the whitelist: EACCES", c.status(op, payload) == E["EACCES"])
    for name, op, payload in ops("okay-not"):
        check(f"{name} in a string-prefix look-alike: EACCES", c.status(op, payload) == E["EACCES"])
    for name, op, payload in ops("bindno"):
        check(f"{name} in a bind mount of a refused dir: EACCES", c.status(op, payload) == E["EACCES"])
    for name, op, payload in ops("ok"):
        check(f"{name} inside the whitelist: allowed", c.status(op, payload) == 0)
    check("untouched outside", sorted(os.listdir(os.path.join(EX, "no"))) == ["f", "sub"])
    check("lookup is not gated", c.path("lookup", b"no/f") == 0)

    open(os.path.join(EX, "ok/g"), "w").write("x")
    two = lambda op, a, b: c.status(op, caller() + target(a) + target(b) + U(0))
    check("rename into a refused dir: EACCES", two("rename", b"ok/g", b"no/g") == E["EACCES"])
    check("rename out of a refused dir: EACCES", two("rename", b"no/f", b"ok/h") == E["EACCES"])
    check("link of a refused file into an allowed dir: EACCES", two("link", b"no/f", b"ok/h") == E["EACCES"])
    check("link from allowed into refused: EACCES", two("link", b"ok/g", b"no/h") == E["EACCES"])
    check("rename within allowed: allowed", two("rename", b"ok/g", b"ok/g2") == 0)
    check("link within allowed: allowed", two("link", b"ok/g2", b"ok/g3") == 0)
    st = c.status("mount", caller() + bytes16(os.path.join(EX, "no").encode()))
    check("MOUNT beneath [Mount]: allowed", st == 0)
    log = srv.log_text()
    check("denials are logged with their group", "refused by the whitelist" in log and "Rename" in log)

    # qtinfo edits the live whitelist through the control endpoint; the file changes only on save.
    Q = lambda *a: subprocess.run([f"{BIN}/qtinfo", "-C", f"server-{srv.proc.pid}", *a], capture_output=True, text=True, timeout=30)
    r = Q("-z", "open")
    check("qtinfo -z open lists the entries", r.returncode == 0 and f"{work}/oklink" in r.stdout)
    check("refused before qtinfo adds the place", c.path("open", b"no/f", U(os.O_RDONLY)) == E["EACCES"])
    for t in ("open", "read"):
        Q("-w", t, "-x", os.path.join(EX, "no"))
    check("after qtinfo -w open/read -x: allowed at once", c.path("open", b"no/f", U(os.O_RDONLY)) == 0)
    check("not saved yet", os.path.join(EX, "no") not in open(wl).read())
    r = Q("--whitelist-save")
    check("qtinfo --whitelist-save writes the file", r.returncode == 0 and os.path.join(EX, "no") in open(wl).read())
    r = Q("-w", "open", "-y", "2")
    check("qtinfo -w open -y 2 removes it: refused again", r.returncode == 0 and c.path("open", b"no/f", U(os.O_RDONLY)) == E["EACCES"])
    srv.stop()

    # [Mount] limited to ok/: mounting the export root is refused; a file without [Mount] too.
    with open(wl, "w") as f:
        f.write(f"[Mount]\nPath={EX}/ok/\n")
    srv = Server([EX], extra=["--whitelist", wl], work=work)
    s = connect(srv.port, srv.key)
    s.sendall(frame(OP["mount"], 9, caller() + bytes16(EX.encode())))
    check("MOUNT outside [Mount]: EACCES", recv_frame(s)[2] == E["EACCES"])
    s.sendall(frame(OP["mount"], 10, caller() + bytes16(f"{EX}/ok".encode())))
    check("MOUNT of the listed dir (trailing / in the file): allowed", recv_frame(s)[2] == 0)
    c = Client(srv.port, srv.key, f"{EX}/ok")
    check("a group missing from the file forbids that operation", c.path("open", b"ok/f", U(os.O_RDONLY)) == E["EACCES"])
    srv.stop()

    with open(wl, "w") as f:
        f.write("[Opn]\nPath=/x\n")
    r = subprocess.run([f"{os.environ.get('QTFS_BIN', '')}/qtfs-server" if os.environ.get('QTFS_BIN') else
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.build/release/qtfs-server"),
                        "--no-auth", "--port", "0", "--export", EX, "--whitelist", wl], capture_output=True, text=True, timeout=30)
    check("unknown group: refuses to start, names the line", r.returncode != 0 and "whitelist:1" in r.stderr and "[Opn]" in r.stderr)
finally:
    if srv and srv.alive(): srv.stop()
    subprocess.run(["umount", "-l", os.path.join(EX, "bindno")], check=False)
    shutil.rmtree(work, ignore_errors=True)
check.exit()
