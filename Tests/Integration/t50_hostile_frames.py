#!/usr/bin/env python3
"""Hostile frames from a raw client: the server answers errors or closes that one
connection, and keeps serving a well-behaved connection throughout."""
import os, socket, struct, subprocess, sys, tempfile, time

MAGIC = 0x53465451
BIN = os.environ.get("QTFS_BIN", os.path.join(os.path.dirname(__file__), "../../.build/release"))

def frame(op, rid, payload=b"", magic=MAGIC, version=1, kind=0, length=None):
    n = len(payload) if length is None else length
    return struct.pack("<IBBHQII", magic, version, kind, op, rid, n, 0) + payload

def caller(): return struct.pack("<IIIH", 0, 0, 0, 0)
def bytes16(b): return struct.pack("<H", len(b)) + b
def target(path): return struct.pack("<I", 0) + bytes16(path)

def recv_frame(s):
    hdr = b""
    while len(hdr) < 24:
        chunk = s.recv(24 - len(hdr))
        if not chunk: return None
        hdr += chunk
    magic, ver, kind, op, rid, n, status = struct.unpack("<IBBHQII", hdr)
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk: return None
        body += chunk
    return op, rid, status, body

def connect(port, hello=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if hello:
        s.sendall(frame(1, 1, struct.pack("<HHQ", 1, 1, 0) + bytes16(b"hostile-test")))
        assert recv_frame(s)[2] == 0, "HELLO failed"
        s.sendall(frame(4, 2, caller() + bytes16(EXPORT.encode())))
        r = recv_frame(s)
        assert r and r[2] == 0, f"MOUNT failed: {r}"
    return s

def closed(s):
    try:
        return recv_frame(s) is None
    except (ConnectionResetError, socket.timeout):
        return True

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
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0)); port = probe.getsockname()[1]
server = subprocess.Popen([f"{BIN}/qtfs-server", "--listen", "127.0.0.1", "--port", str(port), "--export", EXPORT],
                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "server.log"), "w"))
try:
    for _ in range(100):
        try: socket.create_connection(("127.0.0.1", port), timeout=1).close(); break
        except OSError: time.sleep(0.1)
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
    check("server still running", server.poll() is None)
finally:
    server.terminate(); server.wait()
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
