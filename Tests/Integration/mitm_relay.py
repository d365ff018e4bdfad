#!/usr/bin/env python3
"""A man in the middle for t18: relays qtfs connections between a client and a server on
loopback, frame by frame, writes every byte it relays to a capture file, and on command
tampers with the next sealed frame (docs/protocol.md, "Sealed frames").

    mitm_relay.py LISTEN_PORT SERVER_PORT CONTROL_PORT CAPTURE_FILE

Commands, one per line on the control port (answered "ok" once armed):
    flip DIR       flip one bit in the payload of the next sealed frame going DIR
    drop DIR       do not pass on the next sealed frame
    reorder DIR    pass on the next two sealed frames in the opposite order
    replay DIR     send the previous sealed frame again before the next one
    inject DIR     before the next sealed frame, send the frame with the same number
                   recorded on an earlier connection (same direction)
    strip DIR      remove the cipher suite bits from the next HELLO (c2s: the client's
                   offer, s2c: the server's choice)
    flip-all DIR   flip the first sealed frame of every connection until "stop"
    stop           disarm everything
DIR is c2s (client to server) or s2c. Each tampering is logged on stdout as
"applied ACTION DIR conn=N frame=K" (K: the frame's number among the sealed frames of
that direction, i.e. its nonce counter)."""
import os, select, socket, struct, sys, threading
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtfs_raw import recv_exact

HEADER = 24
HANDSHAKE_FRAMES = 3          # HELLO, AUTH_CHALLENGE, AUTH_RESPONSE (and their answers)
SUITE_BITS = 8 | 16
CAPS_OFFSET = {"c2s": 4, "s2c": 2}   # HelloRequest: min, max versions; HelloReply: version

lock = threading.Lock()
armed = {}                  # (action, dir) -> True; flip-all stays until stop
recorded = {"c2s": {}, "s2c": {}}   # frame number -> (conn, bytes), earliest connection first
capture = None
next_conn = [0]


def say(line):
    print(line, flush=True)


def read_frame(s):
    h = recv_exact(s, HEADER)
    if h is None:
        return None
    (length,) = struct.unpack_from("<I", h, 16)
    body = recv_exact(s, length) if length else b""
    return None if body is None else h + body


def take(action, d):
    """True (and disarmed, except flip-all) when ACTION is armed for direction D."""
    with lock:
        if (action, d) not in armed:
            return False
        if action != "flip-all":
            del armed[(action, d)]
        return True


class Pump:
    """One direction of one relayed connection."""

    def __init__(self, conn, d, src, dst):
        self.conn, self.d, self.src, self.dst = conn, d, src, dst
        self.index = 0          # frames seen in this direction
        self.previous = None    # the last sealed frame passed on
        self.flipped_all = False

    def send(self, f):
        with lock:
            capture.write(f)
            capture.flush()
        self.dst.sendall(f)

    def applied(self, action, number):
        say(f"applied {action} {self.d} conn={self.conn} frame={number}")

    def run(self):
        try:
            while True:
                f = read_frame(self.src)
                if f is None:
                    break
                self.handle(f)
        except OSError:
            pass
        for s in (self.src, self.dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle(self, f):
        i = self.index
        self.index += 1
        if i == 0 and take("strip", self.d):
            f = strip_suites(f, CAPS_OFFSET[self.d])
            self.applied("strip", 0)
        if i < HANDSHAKE_FRAMES:
            return self.send(f)
        n = i - HANDSHAKE_FRAMES
        with lock:
            recorded[self.d].setdefault(n, (self.conn, f))
        if self.tamper(f, n):
            return
        self.send(f)
        self.previous = f

    def tamper(self, f, n):
        """Applies an armed action to frame number N; True when it took care of sending."""
        if not self.flipped_all and take("flip-all", self.d):
            self.flipped_all = True
            self.applied("flip-all", n)
            self.send(flip(f))
            return True
        if take("flip", self.d):
            self.applied("flip", n)
            self.send(flip(f))
            return True
        if take("drop", self.d):
            self.applied("drop", n)
            return True
        if take("reorder", self.d):
            return self.reorder(f, n)
        if self.previous is not None and take("replay", self.d):
            self.applied("replay", n)
            self.send(self.previous)
            return False
        if take("inject", self.d):
            return self.inject(f, n)
        return False

    def reorder(self, f, n):
        """Holds F until the next frame has been passed on (up to 3 s; else re-armed)."""
        ready, _, _ = select.select([self.src], [], [], 3)
        g = read_frame(self.src) if ready else None
        if g is None:
            with lock:
                armed[("reorder", self.d)] = True
            self.send(f)
            return True
        self.index += 1
        self.applied("reorder", n)
        self.send(g)
        self.send(f)
        return True

    def inject(self, f, n):
        with lock:
            other = recorded[self.d].get(n)
            if other is None or other[0] == self.conn:
                armed[("inject", self.d)] = True   # no other connection reached this number yet
                return False
        self.applied("inject", n)
        say(f"injected frame {n} of conn={other[0]}")
        self.send(other[1])
        return False


def flip(f):
    """F with one bit of its payload (ciphertext, or the tag of an empty one) flipped."""
    b = bytearray(f)
    at = HEADER + (len(b) - HEADER) // 2
    b[at] ^= 0x10
    return bytes(b)


def strip_suites(f, offset):
    b = bytearray(f)
    (caps,) = struct.unpack_from("<Q", b, HEADER + offset)
    struct.pack_into("<Q", b, HEADER + offset, caps & ~SUITE_BITS)
    return bytes(b)


def serve_client(client, server_port):
    try:
        server = socket.create_connection(("127.0.0.1", server_port))
    except OSError:
        client.close()
        return
    with lock:
        next_conn[0] += 1
        conn = next_conn[0]
    for d, src, dst in (("c2s", client, server), ("s2c", server, client)):
        threading.Thread(target=Pump(conn, d, src, dst).run, daemon=True).start()


def control(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(4)
    while True:
        c, _ = ls.accept()
        with c, c.makefile("rw") as io:
            for line in io:
                words = line.split()
                with lock:
                    if words == ["stop"]:
                        armed.clear()
                    elif len(words) == 2 and words[1] in ("c2s", "s2c"):
                        armed[(words[0], words[1])] = True
                io.write("ok\n")
                io.flush()


def main():
    global capture
    listen_port, server_port, control_port = map(int, sys.argv[1:4])
    capture = open(sys.argv[4], "ab")
    threading.Thread(target=control, args=(control_port,), daemon=True).start()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen_port))
    ls.listen(64)
    say("listening")
    while True:
        c, _ = ls.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        serve_client(c, server_port)


if __name__ == "__main__":
    main()
