#!/usr/bin/env python3
"""Bad input to remote exec: malformed REXEC_START payloads get an error answer; a
started program whose channel then carries garbage (bad header, unknown opcode, stdin
beyond the window, credit never owed) has its connection closed and is killed on the host.
usage: rexec_garbage.py HOST PORT KEYFILE (t90 runs it in the DPU network namespace)."""
import os, socket, struct, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtfs_raw import authenticate, caller, frame, hello, read_key, recv_frame, closed

host, port, keyfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
key = read_key(keyfile)
START, DATA, CREDIT = 64, 65, 66
EPROTO, EINVAL = 71, 22
failures = []

def check(name, cond):
    print(("ok   " if cond else "FAIL ") + name)
    if not cond: failures.append(name)

def conn():
    s = socket.create_connection((host, port), timeout=10)
    hello(s)
    assert authenticate(s, key) == 0
    return s

def strings(items):
    return struct.pack("<I", len(items)) + b"".join(struct.pack("<I", len(x)) + x for x in items)

def start_payload(argv, cwd=b"/", env=(), flags=0):
    return (caller() + struct.pack("<IIHH", flags, 0o22, 0, 0) + struct.pack("<H", len(cwd)) + cwd
            + strings(argv) + strings(list(env)) + struct.pack("<H", 0))

def event(op, payload): return frame(op, 0, payload, kind=2)

for name, payload, want in [
    ("truncated REXEC_START", start_payload([b"/bin/sh"])[:9], EPROTO),
    ("REXEC_START with no argv", start_payload([]), EINVAL),
    ("REXEC_START with a relative cwd", start_payload([b"/bin/sh"], cwd=b"tmp"), EINVAL),
    ("REXEC_START with bad flags", start_payload([b"/bin/sh"], flags=8), EINVAL),
    ("argv with a NUL byte", start_payload([b"/bin/sh\0x"]), EINVAL),
]:
    s = conn()
    s.sendall(frame(START, 7, payload))
    r = recv_frame(s)
    check(f"{name}: answered {want}", r is not None and r[2] == want)
    s.close()

def started(argv):
    s = conn()
    s.sendall(frame(START, 9, start_payload(argv)))
    r = recv_frame(s)
    assert r and r[2] == 0 and r[3][0] == 0, f"start failed: {r}"
    return s, struct.unpack("<I", r[3][5:9])[0]

def gone(pid, seconds=5):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False

for name, bad in [
    ("a bad frame header", b"\x00" * 24),
    ("an unknown opcode", event(99, b"")),
    ("a request instead of an event", frame(DATA, 1, b"\x00abc")),
    # 6 MiB without reading any credit: past the 4 MiB window even after the host has
    # filled the program's 1 MiB stdin pipe (sleep never reads) and credited that back.
    ("stdin beyond the window", b"".join(event(DATA, b"\x00" + b"x" * (256 << 10)) for _ in range(24))),
    ("credit that was never owed", event(CREDIT, struct.pack("<BI", 1, 1 << 22))),
    ("data on the stdout stream", event(DATA, b"\x01abc")),
]:
    s, pid = started([b"/bin/sleep", b"300"])
    s.settimeout(10)
    try:
        s.sendall(bad)
    except OSError:
        pass
    check(f"{name}: connection closed", closed(s))
    check(f"{name}: host program {pid} killed", gone(pid))
    s.close()

sys.exit(1 if failures else 0)
