"""A raw qtfs protocol client for the integration tests: frames, HELLO, the
authentication handshake (HMAC-SHA256, docs/protocol.md), MOUNT, and a server runner."""
import hashlib, hmac, os, socket, struct, subprocess, tempfile, time

MAGIC = 0x53465451
BIN = os.environ.get("QTFS_BIN", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.build/release"))
OP = dict(hello=1, auth_challenge=2, auth_response=3, mount=4, lookup=10, getattr=11, setattr=12, readlink=13,
          mknod=14, mkdir=15, unlink=16, rmdir=17, symlink=18, rename=19, link=20, open=21, create=22, read=23,
          write=24, flush=25, fsync=26, release=27, opendir=28, readdir=29, releasedir=30, statfs=31, access=32,
          getxattr=33, setxattr=34, listxattr=35, removexattr=36, lseek=37, fallocate=38, host_mount=70,
          host_umount=71)
E = dict(EPERM=1, ENOENT=2, EIO=5, EBADF=9, EACCES=13, EBUSY=16, EEXIST=17, EXDEV=18, ENOTDIR=20, EISDIR=21,
         EINVAL=22, EMFILE=24, EROFS=30, ENAMETOOLONG=36, ENOSYS=38, ELOOP=40, ENODATA=61, EPROTO=71, EOPNOTSUPP=95)
LABEL = b"qtfs-auth-v1 hmac-sha256"

def frame(op, rid, payload=b"", magic=MAGIC, version=1, kind=0, length=None):
    n = len(payload) if length is None else length
    return struct.pack("<IBBHQII", magic, version, kind, op, rid, n, 0) + payload

def caller(uid=0, gid=0, groups=()):
    return struct.pack("<IIIH", uid, gid, 0, len(groups)) + b"".join(struct.pack("<I", g) for g in groups)
def bytes16(b): return struct.pack("<H", len(b)) + b
def target(path, export=0): return struct.pack("<I", export) + bytes16(path)

def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk: return None
        data += chunk
    return data

def recv_frame(s):
    hdr = recv_exact(s, 24)
    if hdr is None: return None
    magic, ver, kind, op, rid, n, status = struct.unpack("<IBBHQII", hdr)
    body = recv_exact(s, n)
    if body is None: return None
    return op, rid, status, body

def closed(s):
    """True when the server closed the connection (answers sent before closing are skipped)."""
    try:
        while True:
            if recv_frame(s) is None: return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False   # still open

def transcript(role, cn, sn, version=1, method=1, binding=b""):
    return LABEL + struct.pack("<BHH", role, version, method) + cn + sn + bytes16(binding)

def authenticate(s, key):
    """The client side of the handshake; returns the final status (0 = accepted)."""
    cn = os.urandom(32)
    s.sendall(frame(OP["auth_challenge"], 2, struct.pack("<H", 1) + cn))
    r = recv_frame(s)
    if r is None or r[2] != 0: return r[2] if r else -1
    sn, sproof = r[3][:32], r[3][32:]
    good = hmac.new(key, transcript(1, cn, sn), hashlib.sha256).digest()
    assert hmac.compare_digest(sproof, good), "server proof does not match the key"
    s.sendall(frame(OP["auth_response"], 3, hmac.new(key, transcript(2, cn, sn), hashlib.sha256).digest()))
    r = recv_frame(s)
    return r[2] if r else -1

def hello(s, caps=1):
    s.sendall(frame(OP["hello"], 1, struct.pack("<HHQ", 1, 1, caps) + bytes16(b"raw-test")))
    r = recv_frame(s)
    assert r and r[2] == 0, f"HELLO failed: {r}"
    return struct.unpack("<HQI", r[3][:14])

def connect(port, key=None, mount=None, do_hello=True, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if do_hello:
        _, caps, _ = hello(s)
        if caps & 1:
            assert key is not None, "server requires a key"
            assert authenticate(s, key) == 0, "authentication refused"
    if mount is not None:
        s.sendall(frame(OP["mount"], 4, caller() + bytes16(mount.encode())))
        r = recv_frame(s)
        assert r and r[2] == 0, f"MOUNT failed: {r}"
    return s

class Client:
    """One authenticated, mounted connection with request helpers."""
    def __init__(self, port, key, mount, uid=0, gid=0):
        self.s = connect(port, key)
        self.caller = caller(uid, gid)
        self.rid = 100
        st, body = self.call("mount", caller() + bytes16(mount.encode()))
        assert st == 0, f"MOUNT {mount} failed: {st}"
        self.export = struct.unpack("<I", body[:4])[0]
    def call(self, op, payload):
        self.rid += 1
        self.s.sendall(frame(OP[op] if isinstance(op, str) else op, self.rid, payload))
        r = recv_frame(self.s)
        assert r is not None, f"connection closed on {op}"
        assert r[1] == self.rid, "id not echoed"
        return r[2], r[3]
    def status(self, op, payload): return self.call(op, payload)[0]
    def path(self, op, p, extra=b""): return self.status(op, self.caller + target(p, self.export) + extra)

def read_key(path):
    return bytes.fromhex("".join(open(path).read().split()))

class Server:
    """qtfs-server on a free loopback port with a fresh key (or the given options)."""
    def __init__(self, exports, extra=(), auth=True, work=None):
        self.work = work or tempfile.mkdtemp(prefix="qtfs-raw.")
        self.keyfile = os.path.join(self.work, "qtfs.key")
        if auth and not os.path.exists(self.keyfile):
            subprocess.run([f"{BIN}/qtfs-server", "--generate-key", self.keyfile], check=True, stdout=subprocess.DEVNULL)
        self.key = read_key(self.keyfile) if auth else None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0)); self.port = probe.getsockname()[1]
        args = [f"{BIN}/qtfs-server", "--listen", "127.0.0.1", "--port", str(self.port)]
        args += ["--key", self.keyfile] if auth else ["--no-auth"]
        # This client speaks plaintext frames: the server serves it so (crypt optional)
        # unless the test picks a mode. Sealed frames are tested by t18 with qtfs-fuse.
        if auth and "--crypt" not in extra and "--require-crypt" not in extra: args += ["--crypt", "optional"]
        args += list(extra)
        for e in exports: args += ["--export", e]
        self.log = os.path.join(self.work, f"server-{self.port}.log")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        for _ in range(200):
            try: socket.create_connection(("127.0.0.1", self.port), timeout=1).close(); return
            except OSError:
                if self.proc.poll() is not None: raise RuntimeError("server exited: " + open(self.log).read())
                time.sleep(0.05)
        raise RuntimeError("server did not listen")
    def log_text(self): return open(self.log).read()
    def alive(self): return self.proc.poll() is None
    def stop(self): self.proc.terminate(); self.proc.wait()

class Checks:
    def __init__(self): self.failures = []; self.count = 0
    def __call__(self, name, cond):
        self.count += 1
        print(("PASS " if cond else "FAIL ") + name, flush=True)
        if not cond: self.failures.append(name)
    def exit(self):
        print(f"{self.count} checks, {len(self.failures)} failed")
        raise SystemExit(1 if self.failures else 0)
