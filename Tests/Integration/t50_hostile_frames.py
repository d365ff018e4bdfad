#!/usr/bin/env python3
"""Hostile frames from a raw client: the server answers errors or closes that one
connection, and keeps serving a well-behaved connection throughout."""
import os, socket, struct, sys, tempfile, time, shutil
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtfs_raw import Server, caller, bytes16, target, frame, recv_frame, closed, connect as raw_connect

def connect(port, hello=True):
    return raw_connect(port, srv.key, EXPORT if hello else None, do_hello=hello)

def status_of(s, op, payload, rid=99):
    s.sendall(frame(op, rid, payload))
    r = recv_frame(s)
    assert r is not None, f"connection closed on op {op}"
    assert r[1] == rid, "id not echoed"
    return r[2]

EINVAL, EPROTO, ENOSYS, ENAMETOOLONG, ELOOP, ENOENT = 22, 71, 38, 36, 40, 2
failures = []
def check(name, cond):
    print(("PASS " if cond else "FAIL ") + name)
    if not cond: failures.append(name)

work = tempfile.mkdtemp(prefix="qtfs-hostile.")
EXPORT = os.path.join(work, "export")
os.makedirs(EXPORT + "/dir")
open(EXPORT + "/dir/file", "w").write("x")
os.symlink("/etc", EXPORT + "/escape")
os.symlink("..", EXPORT + "/dir/up")
srv = Server([EXPORT], work=work)
server, port = srv.proc, srv.port
try:
    good = connect(port)
    lookup = lambda p: status_of(good, 10, caller() + target(p))
    check("good connection works", lookup(b"dir/file") == 0)

    for name, data in [("bad magic", frame(10, 5, magic=0xdeadbeef)),
                       ("bad version", frame(10, 5, version=9)),
                       ("bad kind", frame(10, 5, kind=7)),
                       ("oversized length", frame(10, 5, length=0x7fffffff)),
                       ("random garbage", os.urandom(64))]:
        s = connect(port)
        s.sendall(data)
        check(f"{name}: connection closed", closed(s))
        check(f"{name}: others unaffected", lookup(b"dir/file") == 0)

    s = connect(port, hello=False)
    s.sendall(frame(10, 5, caller() + target(b"dir/file")))
    check("request before HELLO: closed", closed(s))

    s = connect(port)
    check("unknown opcode: ENOSYS", status_of(s, 999, b"") == ENOSYS)
    check("truncated payload: EPROTO", status_of(s, 10, caller()[:5]) == EPROTO)
    check("'..' component: EINVAL", lookup(b"dir/../dir/file") == EINVAL)
    check("absolute path: EINVAL", lookup(b"/etc/passwd") == EINVAL)
    check("empty component: EINVAL", lookup(b"dir//file") == EINVAL)
    check("NUL in path: EINVAL", lookup(b"dir/fi\0le") == EINVAL)
    check("overlong name: ENAMETOOLONG", lookup(b"dir/" + b"a" * 256) == ENAMETOOLONG)
    check("symlink to / inside a path: ELOOP", lookup(b"escape/passwd") == ELOOP)
    check("symlink to .. inside a path: ELOOP", lookup(b"dir/up/dir/file") == ELOOP)
    check("symlink itself can be looked up", lookup(b"escape") == 0)
    check("unknown export id: refused", status_of(good, 10, caller() + struct.pack("<I", 77) + bytes16(b"x")) != 0)
    check("unknown handle: EBADF", status_of(good, 23, struct.pack("<QQI", 12345, 0, 10)) == 9)
    # Every fuzz-corpus frame (mutated vectors, Tests/FuzzCorpus) on its own connection.
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../FuzzCorpus")
    sent = 0
    for name in sorted(os.listdir(corpus)):
        if not name.endswith(".bin"): continue
        s = connect(port)
        s.settimeout(2)
        s.sendall(open(os.path.join(corpus, name), "rb").read())
        try: recv_frame(s)
        except (socket.timeout, ConnectionResetError): pass
        s.close(); sent += 1
    check(f"{sent} fuzz-corpus frames: server still serves", sent > 100 and lookup(b"dir/file") == 0)
    check("server still running", server.poll() is None)
finally:
    server.terminate(); server.wait()
    shutil.rmtree(work, ignore_errors=True)
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
