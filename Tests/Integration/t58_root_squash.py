#!/usr/bin/env python3
"""Root squash per export (`--export DIR:root_squash`, `root_squash = yes`): uid 0 acts as
65534/65534 on that export only; other users keep their identity. Checked with the raw
protocol and through a real qtfs-fuse mount."""
import os, struct, subprocess, sys, tempfile, time, shutil
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtfs_raw import BIN, E, Checks, Client, Server, caller, target

check = Checks()
work = tempfile.mkdtemp(prefix="qtfs-squash.")
SQ, PLAIN = os.path.join(work, "squashed"), os.path.join(work, "plain")
for d in (SQ, PLAIN):
    os.makedirs(os.path.join(d, "open"))
    os.chmod(os.path.join(d, "open"), 0o777)
    with open(os.path.join(d, "rootonly"), "w") as f: f.write("secret")
    os.chmod(os.path.join(d, "rootonly"), 0o600)
os.chmod(work, 0o755)
srv = Server([f"{SQ}:root_squash", PLAIN], work=work)
U = lambda *a: struct.pack("<" + "I" * len(a), *a)
mnt = os.path.join(work, "mnt")
try:
    sq = Client(srv.port, srv.key, SQ)
    plain = Client(srv.port, srv.key, PLAIN)
    check("squashed root: reading a root-only file EACCES", sq.path("open", b"rootonly", U(os.O_RDONLY)) == E["EACCES"])
    check("squashed root: creating in a root-owned 0755 dir EACCES", sq.path("mkdir", b"nd", U(0o755, 0)) == E["EACCES"])
    check("squashed root: creating in a 0777 dir works", sq.path("create", b"open/byroot", U(os.O_RDWR | os.O_EXCL, 0o644, 0)) == 0)
    st = os.stat(os.path.join(SQ, "open/byroot"))
    check("squashed root: the new file belongs to 65534:65534", (st.st_uid, st.st_gid) == (65534, 65534))
    check("squashed root: chown to root refused", sq.path("setattr", b"open/byroot",
          struct.pack("<QIIIIQqIqI", 0, 2, 0, 0, 0, 0, 0, 0, 0, 0)) == E["EPERM"])
    user = Client(srv.port, srv.key, SQ, uid=1000, gid=1000)
    user.caller = caller(1000, 1000)
    check("uid 1000 on the squashed export: creates as 1000", user.path("create", b"open/byuser", U(os.O_RDWR | os.O_EXCL, 0o644, 0)) == 0)
    check("... owner 1000", os.stat(os.path.join(SQ, "open/byuser")).st_uid == 1000)
    check("plain export: root reads a root-only file", plain.path("open", b"rootonly", U(os.O_RDONLY)) == 0)
    check("plain export: root creates as root", plain.path("create", b"open/byroot", U(os.O_RDWR | os.O_EXCL, 0o644, 0)) == 0
          and os.stat(os.path.join(PLAIN, "open/byroot")).st_uid == 0)

    os.makedirs(mnt)
    fuse = subprocess.run([f"{BIN}/qtfs-fuse", "-o", f"server=127.0.0.1:{srv.port},key={srv.keyfile}", SQ, mnt],
                          capture_output=True, text=True, timeout=60)
    check("qtfs-fuse mounts the squashed export", fuse.returncode == 0)
    r = subprocess.run(["cat", os.path.join(mnt, "rootonly")], capture_output=True, text=True)
    check("through FUSE, root cannot read the root-only file", r.returncode != 0 and "Permission denied" in r.stderr)
    subprocess.run(["touch", os.path.join(mnt, "open/touched")], check=True)
    check("through FUSE, root's new file is nobody's", os.stat(os.path.join(SQ, "open/touched")).st_uid == 65534)
finally:
    subprocess.run(["fusermount3", "-uz", mnt], capture_output=True)
    srv.stop()
    shutil.rmtree(work, ignore_errors=True)
check.exit()
