#!/usr/bin/env python3
"""A deliberately broken qtfs server for the VM test: qtfs.ko must fail cleanly.

usage: hostile-server.py PORT
Connection 0 answers HELLO with a bad magic; 1 answers MOUNT with a status that
is no errno; 2 answers MOUNT with a root that is not a directory; later
connections mount fine, then answer LOOKUP by the last path component:
  huge-errno   status 70000            bad-type   attr of file type 0170000
  big-size     size 2^63 + 5           wrong-id   an answer to another id (never to this one)
  wrong-op     right id, wrong opcode  garbage    24 bytes of garbage
  slash-names  a directory             anything else: ENOENT
OPENDIR of slash-names gives handle 2, whose READDIR lists "a/b" and "" (names the VFS must
refuse); any other directory gets handle 1, whose first READDIR lists "one" and "two" and
whose next one claims more entries than its payload holds. The rest: empty success.
Opcodes and the magic come from include/qtfs/qtfs_wire.h.
"""
import os
import re
import socket
import struct
import sys
import threading

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../include/qtfs/qtfs_wire.h")


def wire_constants(path):
    """Opcodes (enum qtfs_op) and QTFS_MAGIC from the protocol header: no table of our own."""
    with open(path) as f:
        text = f.read()
    ops = {m[1]: int(m[2]) for m in re.finditer(r"\bQTFS_OP_(\w+) = (\d+)", text)}
    magic = int(re.search(r"#define QTFS_MAGIC\s+0x([0-9a-fA-F]+)", text)[1], 16)
    return ops, magic


OP, MAGIC = wire_constants(HEADER)
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


def readdir_answer(handle, cookie):
    def entry(cookie, name):
        return struct.pack("<QQBH", cookie, 9, 8, len(name)) + name + b"\x00"
    if handle == 2:
        return struct.pack("<BI", 1, 2) + entry(1, b"a/b") + entry(2, b"")
    body = entry(1, b"one") + entry(2, b"two")
    return struct.pack("<BI", 0, 2 if cookie == 0 else 1000) + body


def answer(s, op, rid, payload):
    if op == OP["LOOKUP"]:
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
            s.sendall(frame(OP["GETATTR"], rid, attr(0o100644, ino=8)))
        elif name == "garbage":
            s.sendall(b"\xff" * 24)
        elif name == "slash-names":
            s.sendall(frame(op, rid, attr(0o40755, ino=10)))
        else:
            s.sendall(frame(op, rid, status=2))
    elif op == OP["GETATTR"]:  # big-size, or the root
        if last_component(payload) == "big-size":
            s.sendall(frame(op, rid, attr(0o100644, size=2**63 + 5, ino=6)))
        else:
            s.sendall(frame(op, rid, attr(0o40755, ino=1)))
    elif op == OP["OPENDIR"]:
        handle = 2 if last_component(payload) == "slash-names" else 1
        s.sendall(frame(op, rid, struct.pack("<QI", handle, 0)))
    elif op == OP["READDIR"]:
        s.sendall(frame(op, rid, readdir_answer(*struct.unpack_from("<QQ", payload))))
    else:
        s.sendall(frame(op, rid))


def serve(s, index):
    try:
        while True:
            h = recv_exact(s, 24)
            _, _, _, op, rid, length, _ = HDR.unpack(h)
            payload = recv_exact(s, length)
            if op == OP["HELLO"]:
                name = b"hostile"
                body = struct.pack("<HQIH", 1, 0, 1 << 20, len(name)) + name
                s.sendall(frame(op, rid, body, magic=MAGIC if index != 0 else 0x12345678))
            elif op == OP["MOUNT"]:
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
