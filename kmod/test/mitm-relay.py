#!/usr/bin/env python3
"""A man in the middle for the VM test: mitm-relay.py LISTEN_PORT UPSTREAM_PORT CAPTURE ARM

Listens on 127.0.0.1:LISTEN_PORT (the guest reaches it as 10.0.2.2), forwards each
connection to qtfs-server on 127.0.0.1:UPSTREAM_PORT, and appends every byte it carries,
both ways, to CAPTURE (so the host can look for a known file's bytes in it). Frames from
the server are passed whole. When the file ARM exists, the next one with a payload of
4096 bytes or more (a READ answer) is tampered with as ARM's content says, ARM is renamed
ARM.done and a line is printed:
  flip    one bit flipped in the middle of its payload (also: an empty ARM)
  replay  the connection's previous such frame is sent again before it
  inject  a frame recorded from another connection is sent before it
  drop    it is not passed on
  reorder it is held back and passed on after the server's next frame (of any size;
          "unchanged" when none comes within 10 s)
Nothing else is changed.
"""
import itertools
import os
import select
import socket
import sys
import threading

HEADER = 24
capture_lock = threading.Lock()
recorded = {}  # connection number -> its last frame of 4096 bytes or more (for inject)


def record(capture, data):
    with capture_lock:
        with open(capture, "ab") as f:
            f.write(data)


def read_exact(sock, n):
    """n bytes (MSG_WAITALL returns fewer only at the end of the stream), or None."""
    data = sock.recv(n, socket.MSG_WAITALL)
    return bytearray(data) if len(data) == n else None


def take_arm(arm):
    """The tampering asked for, once per arming (the rename makes it atomic), or None."""
    try:
        with open(arm) as f:
            mode = f.read().strip() or "flip"
        os.rename(arm, arm + ".done")
        return mode
    except FileNotFoundError:
        return None


def tamper(mode, body, conn_id, last):
    """The bytes to send before this frame; flips a bit of body in place for flip."""
    if mode in ("drop", "reorder"):
        return b""
    if mode == "flip":
        body[len(body) // 2] ^= 0x01
        return b""
    if mode == "replay":
        return last or b""
    others = [f for n, f in recorded.items() if n != conn_id]
    return others[-1] if others else b""


def next_frame(src):
    """The server's next whole frame, to pass on before a held one; b"" if none comes
    within 10 s (then the held frame goes on unchanged)."""
    ready, _, _ = select.select([src], [], [], 10)
    header = read_exact(src, HEADER) if ready else None
    if header is None:
        return b""
    length = int.from_bytes(header[16:20], "little")
    body = read_exact(src, length) if length else bytearray()
    return bytes(header + body) if body is not None else b""


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
def server_to_client(src, dst, capture, arm, conn_id):
    last = None
    while (header := read_exact(src, HEADER)) is not None:
        length = int.from_bytes(header[16:20], "little")
        body = read_exact(src, length) if length else bytearray()
        if body is None:
            break
        before, mode = b"", None
        if length >= 4096 and (mode := take_arm(arm)):
            before = tamper(mode, body, conn_id, last)
            if mode == "reorder":
                before = next_frame(src)
            op = int.from_bytes(header[6:8], "little")
            print(f"{mode}: a frame from the server, opcode {op}, length {length}"
                  f"{'' if mode in ('flip', 'drop') or before else ' (nothing to send: unchanged)'}", flush=True)
        if length >= 4096:
            last = recorded[conn_id] = bytes(header + body)
        if mode == "drop":
            continue
        record(capture, before + bytes(header + body))
        dst.sendall(before + header + body)


def serve(conn, upstream, capture, arm, conn_id):
    try:
        up = socket.create_connection(("127.0.0.1", upstream))
    except OSError as e:
        print(f"upstream: {e}", flush=True)
        conn.close()
        return
    pumps = [threading.Thread(target=client_to_server, args=(conn, up, capture), daemon=True),
             threading.Thread(target=server_to_client, args=(up, conn, capture, arm, conn_id), daemon=True)]
    for t in pumps:
        t.start()
    for t in pumps:
        t.join()
    conn.close()
    up.close()


def main():
    listen, upstream, capture, arm = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen))
    srv.listen(16)
    for conn_id in itertools.count():
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, upstream, capture, arm, conn_id), daemon=True).start()


if __name__ == "__main__":
    main()
