#!/usr/bin/env python3
"""A deliberately broken qtfs server for the VM test: qtfs.ko must fail cleanly.

usage: hostile-server.py PORT
Connection 0 answers HELLO with a bad magic; 1 answers MOUNT with a status that
is no errno; 2 answers MOUNT with a root that is not a directory; later
connections mount fine, then answer LOOKUP by the last path component:
  huge-errno   status 70000            bad-type   attr of file type 0170000
  big-size     size 2^63 + 5           wrong-id   an answer to another id (never to this one)
  wrong-op     right id, wrong opcode  garbage    24 bytes of garbage
  anything else: ENOENT
OPENDIR gives handle 1; READDIR answers entries named "a/b" and "" and then a count
larger than the payload; RELEASEDIR and the rest: empty success.
"""
import socket
import struct
import sys
import threading

MAGIC = 0x53465451
HDR = struct.Struct("<IBBHQII")


def attr(mode, size=0, ino=2):
    return struct.pack("<QQQQQIIIIII", 1, ino, size, 0, 0, mode, 1, 0, 0, 4096, 0) + \
        struct.pack("<qI", 0, 0) * 3


def frame(op, rid, payload=b"", status=0, magic=MAGIC, kind=1):
    return HDR.pack(magic, 1, kind, op, rid, len(payload), status) + payload


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def last_component(payload):
    # caller: uid gid pid ngroups groups*, then export u32, path bytes16
    ngroups = struct.unpack_from("<H", payload, 12)[0]
    off = 14 + 4 * ngroups + 4
    n = struct.unpack_from("<H", payload, off)[0]
    return payload[off + 2:off + 2 + n].decode(errors="replace").rsplit("/", 1)[-1]


def answer(s, op, rid, payload):
    if op == 10:  # LOOKUP
        name = last_component(payload)
        if name == "huge-errno":
            s.sendall(frame(op, rid, status=70000))
        elif name == "bad-type":
            s.sendall(frame(op, rid, attr(0o170644, ino=5)))
        elif name == "big-size":
            s.sendall(frame(op, rid, attr(0o100644, size=2**63 + 5, ino=6)))
        elif name == "wrong-id":
            s.sendall(frame(op, rid + 1000, attr(0o100644, ino=7)))
        elif name == "wrong-op":
            s.sendall(frame(11, rid, attr(0o100644, ino=8)))
        elif name == "garbage":
            s.sendall(b"\xff" * 24)
        else:
            s.sendall(frame(op, rid, status=2))
    elif op == 11:  # GETATTR: big-size, or the root
        if last_component(payload) == "big-size":
            s.sendall(frame(op, rid, attr(0o100644, size=2**63 + 5, ino=6)))
        else:
            s.sendall(frame(op, rid, attr(0o40755, ino=1)))
    elif op == 28:  # OPENDIR
        s.sendall(frame(op, rid, struct.pack("<QI", 1, 0)))
    elif op == 29:  # READDIR
        def entry(cookie, name):
            return struct.pack("<QQBH", cookie, 9, 8, len(name)) + name + b"\x00"
        body = entry(1, b"a/b") + entry(2, b"")
        good = struct.pack("<BI", 0, 2) + body
        if struct.unpack_from("<Q", payload, 8)[0] == 0:
            s.sendall(frame(op, rid, good))
        else:
            s.sendall(frame(op, rid, struct.pack("<BI", 0, 1000) + body))
    else:
        s.sendall(frame(op, rid))


def serve(s, index):
    try:
        while True:
            h = recv_exact(s, 24)
            _, _, _, op, rid, length, _ = HDR.unpack(h)
            payload = recv_exact(s, length)
            if op == 1:  # HELLO
                name = b"hostile"
                body = struct.pack("<HQIH", 1, 0, 1 << 20, len(name)) + name
                s.sendall(frame(op, rid, body, magic=MAGIC if index != 0 else 0x12345678))
            elif op == 4:  # MOUNT
                if index == 1:
                    s.sendall(frame(op, rid, status=70000))
                elif index == 2:
                    s.sendall(frame(op, rid, struct.pack("<IH", 0, 0) + attr(0o100644)))
                else:
                    s.sendall(frame(op, rid, struct.pack("<IH", 0, 0) + attr(0o40755, ino=1)))
            else:
                answer(s, op, rid, payload)
    except (EOFError, OSError):
        pass
    finally:
        s.close()


def main():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(sys.argv[1])))
    ls.listen(16)
    index = 0
    while True:
        s, _ = ls.accept()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(s, index), daemon=True).start()
        index += 1


if __name__ == "__main__":
    main()
