#!/usr/bin/env python3
"""A man in the middle for the VM test: mitm-relay.py LISTEN_PORT UPSTREAM_PORT CAPTURE FLIP

Listens on 127.0.0.1:LISTEN_PORT (the guest reaches it as 10.0.2.2), forwards each
connection to qtfs-server on 127.0.0.1:UPSTREAM_PORT, and appends every byte it carries,
both ways, to CAPTURE (so the host can look for a known file's bytes in it). Frames from
the server are passed whole; when the file FLIP exists, the first one with a payload of
4096 bytes or more (a READ answer) gets one bit flipped in the middle of its payload,
FLIP is renamed FLIP.done and a line is printed. Nothing else is changed.
"""
import os
import socket
import sys
import threading

HEADER = 24
capture_lock = threading.Lock()


def record(capture, data):
    with capture_lock:
        with open(capture, "ab") as f:
            f.write(data)


def read_exact(sock, n):
    """n bytes (MSG_WAITALL returns fewer only at the end of the stream), or None."""
    data = sock.recv(n, socket.MSG_WAITALL)
    return bytearray(data) if len(data) == n else None


def take_flip(flip):
    """True once per arming: the rename makes it atomic between connections."""
    try:
        os.rename(flip, flip + ".done")
        return True
    except FileNotFoundError:
        return False


def both_closed(pump):
    """Runs a pump; when it ends (end of stream, reset), both connections are shut, so
    the other pump ends too (qtfs never half-closes)."""
    def run(src, dst, *args):
        try:
            pump(src, dst, *args)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
    return run


@both_closed
def client_to_server(src, dst, capture):
    while data := src.recv(65536):
        record(capture, data)
        dst.sendall(data)


@both_closed
def server_to_client(src, dst, capture, flip):
    while (header := read_exact(src, HEADER)) is not None:
        length = int.from_bytes(header[16:20], "little")
        body = read_exact(src, length) if length else bytearray()
        if body is None:
            break
        if length >= 4096 and take_flip(flip):
            body[length // 2] ^= 0x01
            op = int.from_bytes(header[6:8], "little")
            print(f"flipped one bit of a frame from the server: opcode {op}, length {length}", flush=True)
        record(capture, bytes(header + body))
        dst.sendall(header + body)


def serve(conn, upstream, capture, flip):
    try:
        up = socket.create_connection(("127.0.0.1", upstream))
    except OSError as e:
        print(f"upstream: {e}", flush=True)
        conn.close()
        return
    pumps = [threading.Thread(target=client_to_server, args=(conn, up, capture), daemon=True),
             threading.Thread(target=server_to_client, args=(up, conn, capture, flip), daemon=True)]
    for t in pumps:
        t.start()
    for t in pumps:
        t.join()
    conn.close()
    up.close()


def main():
    listen, upstream, capture, flip = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen))
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, upstream, capture, flip), daemon=True).start()


if __name__ == "__main__":
    main()
