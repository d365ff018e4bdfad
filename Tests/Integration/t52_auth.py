#!/usr/bin/env python3
"""Authentication (docs/protocol.md, "Authentication") against the real server: the right
key gets in, every wrong or out-of-order step is refused before any file operation, logged
with the peer's address, and the connection closed; the start policy, key file modes, the
address allow-list, the handshake timeout, and qtfs-fuse's key= option."""
import hashlib, hmac, os, socket, struct, subprocess, sys, tempfile, shutil
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtfs_raw import (BIN, E, OP, Checks, Server, authenticate, bytes16, caller, closed, connect, frame, hello,
                      recv_frame, target, transcript)

check = Checks()
work = tempfile.mkdtemp(prefix="qtfs-auth.")
EXPORT = os.path.join(work, "export")
os.makedirs(EXPORT)
srv = Server([EXPORT], work=work)
nokey = Server([EXPORT], auth=False, work=work)

def fresh(do_hello=True):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    if do_hello: hello(s)
    return s

def answer(s, op, payload, rid=7):
    s.sendall(frame(op, rid, payload))
    return recv_frame(s)

def challenge(s, method=1):
    cn = os.urandom(32)
    r = answer(s, OP["auth_challenge"], struct.pack("<H", method) + cn, rid=2)
    return cn, r

try:
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    _, caps, _ = hello(s)
    check("HELLO announces AUTH_REQUIRED", caps & 1 == 1)
    check("right key: accepted", authenticate(s, srv.key) == 0)
    s.sendall(frame(OP["mount"], 9, caller() + bytes16(EXPORT.encode())))
    check("right key: MOUNT works afterwards", recv_frame(s)[2] == 0)

    # File operations before authentication: refused, nothing done, connection closed.
    for name, op, payload in [
            ("MOUNT", OP["mount"], caller() + bytes16(EXPORT.encode())),
            ("MKDIR", OP["mkdir"], caller() + target(b"pwned") + struct.pack("<II", 0o755, 0)),
            ("LOOKUP", OP["lookup"], caller() + target(b"")),
            ("READ on a guessed handle", OP["read"], struct.pack("<QQI", 1, 0, 16))]:
        s = fresh()
        r = answer(s, op, payload)
        check(f"{name} before authentication: EACCES", r is not None and r[2] == E["EACCES"])
        check(f"{name} before authentication: closed", closed(s))
    check("nothing was created before authentication", not os.path.exists(os.path.join(EXPORT, "pwned")))
    s = fresh(do_hello=False)
    s.sendall(frame(OP["auth_challenge"], 2, struct.pack("<H", 1) + os.urandom(32)))
    check("AUTH before HELLO: closed", closed(s))

    # Wrong key: the client sees the server cannot prove our key; the server refuses ours.
    wrong = os.urandom(32)
    s = fresh()
    cn, r = challenge(s)
    sn, sproof = r[3][:32], r[3][32:]
    check("wrong key: server proof does not verify", not hmac.compare_digest(
        sproof, hmac.new(wrong, transcript(1, cn, sn), hashlib.sha256).digest()))
    r = answer(s, OP["auth_response"], hmac.new(wrong, transcript(2, cn, sn), hashlib.sha256).digest(), rid=3)
    check("wrong key: EACCES", r is not None and r[2] == E["EACCES"])
    check("wrong key: closed", closed(s))

    s = fresh()
    cn, r = challenge(s)
    r2 = answer(s, OP["auth_response"], r[3][32:], rid=3)
    check("server proof reflected as the client's: EACCES", r2 is not None and r2[2] == E["EACCES"])

    # A recorded good proof does not work on another connection (fresh server nonce).
    s = fresh()
    cn, r = challenge(s)
    good = hmac.new(srv.key, transcript(2, cn, r[3][:32]), hashlib.sha256).digest()
    check("recorded exchange: accepted the first time", answer(s, OP["auth_response"], good, rid=3)[2] == 0)
    s2 = fresh()
    s2.sendall(frame(OP["auth_challenge"], 2, struct.pack("<H", 1) + cn))   # same client nonce
    recv_frame(s2)
    r = answer(s2, OP["auth_response"], good, rid=3)
    check("replayed proof: EACCES", r is not None and r[2] == E["EACCES"])
    check("second AUTH_CHALLENGE after success: closed", answer(s, OP["auth_challenge"], struct.pack("<H", 1) + cn)[2] != 0 and closed(s))

    for name, op, payload, errno in [
            ("AUTH_RESPONSE without challenge", OP["auth_response"], b"\0" * 32, E["EPROTO"]),
            ("unknown method", OP["auth_challenge"], struct.pack("<H", 9) + os.urandom(32), E["EOPNOTSUPP"]),
            ("truncated challenge", OP["auth_challenge"], struct.pack("<H", 1) + b"\1" * 31, E["EPROTO"]),
            ("overlong challenge", OP["auth_challenge"], struct.pack("<H", 1) + b"\1" * 33, E["EPROTO"])]:
        s = fresh()
        r = answer(s, op, payload)
        check(f"{name}: errno {errno}", r is not None and r[2] == errno)
        check(f"{name}: closed", closed(s))
    s = fresh()
    cn, r = challenge(s)
    r = answer(s, OP["auth_response"], b"\0" * 31, rid=3)
    check("truncated proof: EACCES and closed", r is not None and r[2] == E["EACCES"] and closed(s))

    log = srv.log_text()
    check("failures are logged with the peer address", "authentication failed" in log and "127.0.0.1:" in log)
    check("server survived", srv.alive())

    # A server without a key never asks and answers AUTH with EOPNOTSUPP.
    s = socket.create_connection(("127.0.0.1", nokey.port), timeout=10)
    _, caps, _ = hello(s)
    check("--no-auth: HELLO without AUTH_REQUIRED", caps & 1 == 0)
    check("--no-auth: AUTH_CHALLENGE answers EOPNOTSUPP", challenge(s)[1][2] == E["EOPNOTSUPP"])

    # Start policy and key files.
    def start(*args):
        return subprocess.run([f"{BIN}/qtfs-server", "--port", "0", "--export", EXPORT, *args],
                              capture_output=True, text=True, timeout=30)
    r = start()
    check("no key and no --no-auth: refuses to start", r.returncode != 0 and "--generate-key" in r.stderr)
    loose = os.path.join(work, "loose.key")
    subprocess.run([f"{BIN}/qtfs-server", "--generate-key", loose], check=True, capture_output=True)
    check("generated key has mode 0600", os.stat(loose).st_mode & 0o777 == 0o600)
    os.chmod(loose, 0o644)
    r = start("--key", loose)
    check("group/other-readable key: refuses with chmod hint", r.returncode != 0 and "chmod 600" in r.stderr)
    r = subprocess.run([f"{BIN}/qtfs-server", "--generate-key", loose], capture_output=True, text=True)
    check("--generate-key never overwrites", r.returncode != 0 and os.path.getsize(loose) > 0)

    # Allow-list: a peer outside it is closed before HELLO, with a log line.
    fenced = Server([EXPORT], extra=["--allow-client", "192.0.2.0/24"], work=work)
    s = socket.create_connection(("127.0.0.1", fenced.port), timeout=10)
    check("address not in the allow-list: closed", closed(s))
    check("address not in the allow-list: logged", "client address not allowed" in fenced.log_text())
    fenced.stop()
    opened = Server([EXPORT], extra=["--allow-client", "127.0.0.0/8", "--handshake-timeout", "1"], work=work)
    check("address in the allow-list: served", connect(opened.port, opened.key, EXPORT) is not None)
    s = socket.create_connection(("127.0.0.1", opened.port), timeout=20)
    check("silent peer: closed after the handshake timeout", closed(s))
    check("handshake timeout logged", "handshake not finished in time" in opened.log_text())
    opened.stop()

    # qtfs-fuse: key= mismatches fail with a message that says what to do (no mount happens).
    mnt = os.path.join(work, "mnt"); os.makedirs(mnt)
    def fuse(port, *opts):
        o = ",".join([f"server=127.0.0.1:{port}", *opts])
        return subprocess.run([f"{BIN}/qtfs-fuse", "-o", o, EXPORT, mnt], capture_output=True, text=True, timeout=60)
    other = os.path.join(work, "other.key")
    subprocess.run([f"{BIN}/qtfs-server", "--generate-key", other], check=True, capture_output=True)
    r = fuse(srv.port, f"key={other}")
    check("qtfs-fuse with another key: fails, says the keys differ", r.returncode != 0 and "key" in r.stderr and "differ" in r.stderr)
    r = fuse(srv.port)
    check("qtfs-fuse without key: fails, says key=FILE", r.returncode != 0 and "key=FILE" in r.stderr)
    r = fuse(nokey.port, f"key={srv.keyfile}")
    check("qtfs-fuse with key against --no-auth server: refuses", r.returncode != 0 and "does not authenticate" in r.stderr)
    r = fuse(srv.port, f"key={loose}")
    check("qtfs-fuse with an other-readable key file: refuses", r.returncode != 0 and "chmod 600" in r.stderr)
    check("no mount was left", subprocess.run(["mountpoint", "-q", mnt]).returncode != 0)
finally:
    srv.stop(); nokey.stop()
    shutil.rmtree(work, ignore_errors=True)
check.exit()
