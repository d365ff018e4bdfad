#!/usr/bin/env python3
"""A tap between qtfs clients and a server on loopback, for t78: passes every byte of
every connection through unchanged and appends it to a capture file, so a test can
look for relayed bytes on the wire. Works for plaintext relays too (no parsing).

    byte_tap.py LISTEN_PORT SERVER_PORT CAPTURE_FILE [flip DIR KIND]

With "flip DIR KIND" (DIR c2s or s2c, KIND 2 for events such as remote exec's, 3 for a
relay's STREAM frames) the DIR side is read as sealed frames (docs/protocol.md, "Sealed
frames"), and on each connection the first frame of that KIND with a payload has one
bit of its ciphertext flipped; stdout gets "flipped DIR kind=KIND conn=N"."""
import os, socket, struct, sys, threading
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtfs_raw import recv_exact

HEADER = 24
listen_port, server_port, capture_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
flip = (sys.argv[5], int(sys.argv[6])) if len(sys.argv) > 4 and sys.argv[4] == "flip" else None
lock = threading.Lock()
capture = open(capture_path, "ab")


def record(data):
    with lock:
        capture.write(data)
        capture.flush()


def raw(src, dst):
    while True:
        b = src.recv(65536)
        if not b:
            return
        record(b)
        dst.sendall(b)


def frames(src, dst, direction, conn):
    """Passes whole frames, flipping a ciphertext bit of the first one of the chosen kind."""
    flipped = False
    while True:
        h = recv_exact(src, HEADER)
        if h is None:
            return
        (length,) = struct.unpack_from("<I", h, 16)
        body = bytearray(recv_exact(src, length) or b"") if length else bytearray()
        if len(body) < length:
            return
        if not flipped and h[5] == flip[1] and length > 16:
            body[0] ^= 0x01
            flipped = True
            print(f"flipped {direction} kind={flip[1]} conn={conn}", flush=True)
        record(h + bytes(body))
        dst.sendall(h + bytes(body))


def pump(src, dst, direction, conn):
    try:
        if flip and flip[0] == direction:
            frames(src, dst, direction, conn)
        else:
            raw(src, dst)
    except OSError:
        pass
    for s in (dst, src):
        try:
            s.shutdown(socket.SHUT_WR if s is dst else socket.SHUT_RD)
        except OSError:
            pass


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen_port))
    ls.listen(64)
    conn = 0
    while True:
        c, _ = ls.accept()
        s = socket.create_connection(("127.0.0.1", server_port))
        conn += 1
        for a, b, d in ((c, s, "c2s"), (s, c, "s2c")):
            threading.Thread(target=pump, args=(a, b, d, conn), daemon=True).start()


main()
