#!/usr/bin/env python3
"""HOST_MOUNT and HOST_UMOUNT (what qtfs-run sends for a daemon's mount(2) and umount2(2))
against a real qtfs-server, checked in the host's /proc/self/mountinfo: tmpfs, bind, rbind,
overlay with its layers in the export (the merged view on the host), move, remount
read-only, propagation changes, umount and umount with MNT_DETACH, paths through symlinks
that stay in the export; and every refusal: no whitelist, a target outside [Mount],
outside the exports, through `..` or a symlink leading out, a bind source or an overlay
layer outside, a non-root caller, a squashed or read-only export, a block-device file
system, malformed payloads (the server keeps answering)."""
import os, re, socket, struct, subprocess, sys, tempfile, shutil
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtfs_raw import BIN, E, OP, Checks, Server, bytes16, caller, connect, frame, recv_frame

MS_RDONLY, MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC = 1, 32, 4096, 8192, 16384
MS_PRIVATE, MS_SHARED = 1 << 18, 1 << 20
MNT_DETACH = 2

check = Checks()
work = tempfile.mkdtemp(prefix="qtfs-hostmount.")
os.environ["QTFS_CONTROL_DIR"] = os.path.join(work, "ctl")   # private control sockets for qtinfo
EX, SQ, RO, OUT = (os.path.join(work, d) for d in ("export", "squashed", "readonly", "outside"))
M = os.path.join(EX, "mnt")     # the [Mount] place
P = lambda *a: os.path.join(M, *a).encode()
for d in ("t1", "t2", "bsrc/sub", "btgt", "rtgt", "lower1", "lower2", "upper", "work", "merged", "m1", "m2",
          "busy", "nested", "t3", "lo:x", "lo\\"):
    os.makedirs(os.path.join(M, d))
for d in (os.path.join(EX, "nomount"), SQ, RO, os.path.join(OUT, "d")):
    os.makedirs(d)
os.makedirs(os.path.join(M.encode(), b"n\xffutf8"))   # a name that is not UTF-8
open(os.path.join(M, "bsrc/marker"), "w").write("bound")
open(os.path.join(M, "lower1/a"), "w").write("from lower1")
open(os.path.join(M, "lower2/b"), "w").write("from lower2")
open(os.path.join(OUT, "secret"), "w").write("outside")
os.symlink(OUT, os.path.join(M, "esc"))
os.symlink("t3", os.path.join(M, "inner-link"))
os.symlink(M, os.path.join(EX, "alias"))   # an absolute link in the prefix, as Debian's /var/run -> /run
A = lambda *a: os.path.join(EX, "alias", *a).encode()
wl = os.path.join(work, "whitelist")
open(wl, "w").write(f"[Mount]\nPath={M};{SQ};{RO}\n")

def unescape(s): return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)

def mounts():
    """Mount point -> (fstype, mount options, optional fields, super options, source) of the top mount."""
    out = {}
    for line in open("/proc/self/mountinfo", errors="surrogateescape"):
        left, right = line.rstrip("\n").split(" - ")
        f, r = left.split(" "), right.split(" ")
        out[unescape(f[4])] = (r[0], f[5].split(","), f[6:], r[2].split(","), unescape(r[1]))
    return out

def mounted(path): return mounts().get(os.fsdecode(path))

class HostMounter:
    """One authenticated connection, no export MOUNT on it (as qtfs-run uses it)."""
    def __init__(self, srv):
        self.s = connect(srv.port, srv.key); self.rid = 10
    def send(self, op, payload):
        self.rid += 1
        self.s.sendall(frame(op, self.rid, payload))
        r = recv_frame(self.s)
        assert r is not None and r[1] == self.rid, f"no answer to op {op}"
        return r[2]
    def mount(self, target, source=b"", fstype=b"", data=b"", flags=0, uid=0):
        return self.send(OP["host_mount"], caller(uid, uid) + struct.pack("<Q", flags) + bytes16(target)
                         + bytes16(source) + bytes16(fstype) + bytes16(data))
    def umount(self, target, flags=0, uid=0):
        return self.send(OP["host_umount"], caller(uid, uid) + struct.pack("<I", flags) + bytes16(target))

def cleanup():
    for mp in sorted((m for m in mounts() if m.startswith(work + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], check=False, stderr=subprocess.DEVNULL)

srv = bare = None
try:
    srv = Server([EX, SQ + ":root_squash", RO + ":ro"], extra=["--whitelist", wl], work=work)
    hm = HostMounter(srv)

    # tmpfs, remounts, propagation
    check("tmpfs at an allowed target: 0", hm.mount(P("t1"), b"qtfs-t1", b"tmpfs", b"size=1m,mode=0755") == 0)
    m = mounted(P("t1"))
    check("... it is on the host, with its source and options", m and m[0] == "tmpfs" and "size=1024k" in m[3]
          and m[4] == "qtfs-t1")
    open(os.path.join(M, "t1/f"), "w").write("on tmpfs")
    check("remount with new options (size=2m): 0", hm.mount(P("t1"), flags=MS_REMOUNT, data=b"size=2m") == 0)
    check("... the size changed on the host", "size=2048k" in mounted(P("t1"))[3])
    check("remount bind,ro: 0", hm.mount(P("t1"), flags=MS_REMOUNT | MS_BIND | MS_RDONLY) == 0)
    check("... the mount is read-only on the host", "ro" in mounted(P("t1"))[1])
    try:
        open(os.path.join(M, "t1/g"), "w"); ro_refused = False
    except OSError as e:
        ro_refused = e.errno == E["EROFS"]
    check("... writing in it fails with EROFS", ro_refused)
    check("MS_SHARED: 0", hm.mount(P("t1"), flags=MS_SHARED) == 0)
    check("... shared on the host", any(o.startswith("shared:") for o in mounted(P("t1"))[2]))
    check("MS_PRIVATE|MS_REC: 0", hm.mount(P("t1"), flags=MS_PRIVATE | MS_REC) == 0)
    check("... private on the host", not any(o.startswith("shared:") for o in mounted(P("t1"))[2]))

    # bind, rbind, move
    check("bind of one export dir onto another: 0", hm.mount(P("btgt"), P("bsrc"), flags=MS_BIND) == 0)
    check("... the source's file is seen at the target", open(os.path.join(M, "btgt/marker")).read() == "bound")
    subprocess.run(["mount", "-t", "tmpfs", "nested", os.path.join(M, "bsrc/sub")], check=True)
    check("rbind: 0", hm.mount(P("rtgt"), P("bsrc"), flags=MS_BIND | MS_REC) == 0)
    check("... the nested mount came along", (mounted(P("rtgt", "sub")) or ("",))[0] == "tmpfs")
    check("tmpfs at m1: 0", hm.mount(P("m1"), b"qtfs-move", b"tmpfs") == 0)
    check("move m1 to m2: 0", hm.mount(P("m2"), P("m1"), flags=MS_MOVE) == 0)
    check("... now at m2 and gone from m1", mounted(P("m2")) and mounted(P("m2"))[0] == "tmpfs" and not mounted(P("m1")))

    # overlay with its layers in the export
    data = f"lowerdir={M}/lower1:{M}/lower2,upperdir={M}/upper,workdir={M}/work".encode()
    check("overlay with layers in the export: 0", hm.mount(P("merged"), b"overlay", b"overlay", data) == 0)
    merged = os.path.join(M, "merged")
    check("... the merged view is on the host", sorted(os.listdir(merged)) == ["a", "b"]
          and open(os.path.join(merged, "b")).read() == "from lower2")
    open(os.path.join(merged, "new"), "w").write("written")
    check("... a write lands in upperdir", open(os.path.join(M, "upper/new")).read() == "written")
    check("... the options reached the kernel unchanged", f"lowerdir={M}/lower1:{M}/lower2" in mounted(merged)[3])

    # umount
    check("umount t1: 0", hm.umount(P("t1")) == 0)
    check("... gone from the host", not mounted(P("t1")))
    check("umount of a directory that is not a mount: EINVAL", hm.umount(P("t1")) == E["EINVAL"])
    check("tmpfs at busy: 0", hm.mount(P("busy"), b"qtfs-busy", b"tmpfs") == 0)
    held = open(os.path.join(M, "busy/held"), "w")
    check("umount of a mount with an open file: EBUSY", hm.umount(P("busy")) == E["EBUSY"])
    check("umount -l (MNT_DETACH) of it: 0", hm.umount(P("busy"), MNT_DETACH) == 0)
    check("... detached from the host", not mounted(P("busy")))
    held.close()
    check("umount of the overlay: 0", hm.umount(P("merged")) == 0 and not mounted(merged))
    odd = M.encode() + b"/n\xffutf8"
    check("tmpfs at a name that is not UTF-8: 0", hm.mount(odd, b"qtfs-odd", b"tmpfs") == 0 and mounted(odd))
    check("... and its umount: 0", hm.umount(odd) == 0 and not mounted(odd))

    # symlinks that stay inside the export are followed (the resolved place is mounted on)
    check("tmpfs through a symlinked prefix: 0", hm.mount(A("t3"), b"qtfs-alias", b"tmpfs") == 0)
    check("... mounted at the real place", (mounted(P("t3")) or ("",))[0] == "tmpfs")
    check("umount through the symlinked prefix: 0", hm.umount(A("t3")) == 0 and not mounted(P("t3")))
    check("target a symlink inside the export: 0", hm.mount(P("inner-link"), b"qtfs-link", b"tmpfs") == 0
          and mounted(P("t3")) and not mounted(P("inner-link")))
    check("umount by the symlink: 0", hm.umount(P("inner-link")) == 0 and not mounted(P("t3")))
    check("bind with source and target through symlinks: 0", hm.mount(A("t3"), A("bsrc"), flags=MS_BIND) == 0
          and open(os.path.join(M, "t3/marker")).read() == "bound")
    check("... and its umount: 0", hm.umount(P("t3")) == 0 and not mounted(P("t3")))
    data = f"lowerdir={EX}/alias/lower1:{M}/lower2,upperdir={EX}/alias/upper,workdir={M}/work".encode()
    check("overlay with layers through a symlink: 0", hm.mount(P("t3"), b"overlay", b"overlay", data) == 0
          and "a" in os.listdir(os.path.join(M, "t3")))
    check("... and its umount: 0", hm.umount(P("t3")) == 0 and not mounted(P("t3")))

    # refusals
    log0 = len(srv.log_text())
    check("target outside [Mount]: EPERM", hm.mount(os.path.join(EX, "nomount").encode(), b"x", b"tmpfs") == E["EPERM"])
    check("... logged with what to add", "[Mount] Path=" + os.path.join(EX, "nomount") in srv.log_text()[log0:])
    check("umount outside [Mount]: EPERM", hm.umount(os.path.join(EX, "nomount").encode()) == E["EPERM"])
    check("target outside the exports: EACCES", hm.mount(os.path.join(OUT, "d").encode(), b"x", b"tmpfs") == E["EACCES"])
    check("target through '..': EACCES", hm.mount(P("..", "..", "..", "outside", "d"), b"x", b"tmpfs") == E["EACCES"])
    check("target a symlink leading out: EACCES", hm.mount(P("esc"), b"x", b"tmpfs") == E["EACCES"])
    check("target beneath a symlink leading out: EACCES", hm.mount(P("esc", "d"), b"x", b"tmpfs") == E["EACCES"])
    check("umount through a symlink leading out: EACCES", hm.umount(P("esc", "d")) == E["EACCES"])
    check("bind source outside the exports: EACCES", hm.mount(P("t2"), os.path.join(OUT, "d").encode(), flags=MS_BIND) == E["EACCES"])
    check("bind source through a symlink leading out: EACCES", hm.mount(P("t2"), P("esc"), flags=MS_BIND) == E["EACCES"])
    check("bind source relative: EINVAL", hm.mount(P("t2"), b"bsrc", flags=MS_BIND) == E["EINVAL"])
    check("bind source in a read-only export: EROFS", hm.mount(P("t2"), RO.encode(), flags=MS_BIND) == E["EROFS"])
    for what, opts in [("lowerdir outside", f"lowerdir={OUT}/d:{M}/lower1,upperdir={M}/upper,workdir={M}/work"),
                       ("lowerdir through a symlink", f"lowerdir={M}/esc/d,upperdir={M}/upper,workdir={M}/work"),
                       # overlayfs escapes: backslash-colon is part of a name, two backslashes are one before a separator
                       ("lowerdir outside after an escaped ':'", f"lowerdir={M}/lo\\:x:{OUT}/d,upperdir={M}/upper,workdir={M}/work"),
                       ("lowerdir outside after an escaped '\\'", f"lowerdir={M}/lo\\\\:{OUT}/d,upperdir={M}/upper,workdir={M}/work"),
                       ("upperdir outside", f"lowerdir={M}/lower1,upperdir={OUT}/d,workdir={M}/work"),
                       ("workdir through '..'", f"lowerdir={M}/lower1,upperdir={M}/upper,workdir={M}/../../outside/d"),
                       ("relative lowerdir", f"lowerdir=lower1,upperdir={M}/upper,workdir={M}/work")]:
        check(f"overlay {what}: EACCES", hm.mount(P("t2"), b"overlay", b"overlay", opts.encode()) == E["EACCES"])
    check("... and nothing was mounted", not mounted(P("t2")))
    check("caller uid 1000: EPERM", hm.mount(P("t2"), b"x", b"tmpfs", uid=1000) == E["EPERM"])
    check("umount by uid 1000: EPERM", hm.umount(P("m2"), uid=1000) == E["EPERM"] and mounted(P("m2")))
    check("target in a root-squashed export: EPERM", hm.mount(os.path.join(SQ).encode() + b"/x", b"x", b"tmpfs") == E["EPERM"])
    check("target in a read-only export: EROFS", hm.mount(RO.encode() + b"/x", b"x", b"tmpfs") == E["EROFS"])
    check("target the export's root: EPERM", hm.mount(EX.encode(), b"x", b"tmpfs") == E["EPERM"])
    check("ext4 (a block device): EPERM", hm.mount(P("t2"), b"/dev/sda1", b"ext4") == E["EPERM"])
    check("... logged with the allowed types", "'ext4' is not allowed" in srv.log_text())
    check("new mount without a type: EINVAL", hm.mount(P("t2"), b"x") == E["EINVAL"])
    check("relative target: EINVAL", hm.mount(b"mnt/t2", b"x", b"tmpfs") == E["EINVAL"])
    check("umount with flags 0x10: EINVAL", hm.umount(P("m2"), 0x10) == E["EINVAL"])
    check("truncated HOST_MOUNT: EPROTO", hm.send(OP["host_mount"], caller() + b"\x00\x00") == E["EPROTO"])
    check("truncated HOST_UMOUNT: EPROTO", hm.send(OP["host_umount"], caller()) == E["EPROTO"])
    check("... the server still answers", hm.umount(P("m2")) == 0 and not mounted(P("m2")))

    stats = subprocess.run([f"{BIN}/qtinfo", "-C", f"server-{srv.proc.pid}", "--stats"],
                           capture_output=True, text=True, timeout=30).stdout
    print(stats)
    check("qtinfo --stats counts both operations", "hostMount" in stats and "hostUmount" in stats)

    # no whitelist: host mounts are off
    bare = Server([EX], work=tempfile.mkdtemp(prefix="qtfs-hostmount-bare.", dir=work))
    off = HostMounter(bare)
    check("no whitelist: EPERM", off.mount(P("t2"), b"x", b"tmpfs") == E["EPERM"] and not mounted(P("t2")))
    check("no whitelist, umount: EPERM", off.umount(P("btgt")) == E["EPERM"] and mounted(P("btgt")))
    check("... logged: host mounts are off, with what to add",
          "host mounts are off" in bare.log_text() and "[Mount] Path=" in bare.log_text())
    check("servers alive", srv.alive() and bare.alive())
finally:
    for s in (srv, bare):
        if s: s.stop()
    cleanup()
    leftover = [m for m in mounts() if m.startswith(work + "/")]
    check("no mounts left behind", leftover == [])
    if not leftover: shutil.rmtree(work, ignore_errors=True)
check.exit()
