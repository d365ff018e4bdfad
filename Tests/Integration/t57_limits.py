#!/usr/bin/env python3
"""Limits (docs/server.md, "Limits"), set through the config file and flags: frame size,
open handles per connection, connections per address, idle timeout, requests in flight.
Exceeding one gives a clear errno or a closed connection plus a log line; a client that
floods requests without reading answers does not grow the server's memory."""
import os, socket, struct, sys, tempfile, time, shutil
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qtfs_raw import E, OP, Checks, Client, Server, caller, closed, connect, frame, hello, recv_frame, target

check = Checks()
work = tempfile.mkdtemp(prefix="qtfs-limits.")
EX = os.path.join(work, "export")
os.makedirs(EX)
for i in range(12):
    open(os.path.join(EX, f"f{i}"), "w").write("x")
conf = os.path.join(work, "server.conf")
with open(conf, "w") as f:
    f.write("max_frame = 69632\nmax_handles = 8\nmax_connections_per_address = 3\nmax_in_flight = 2\n")
srv = Server([EX], extra=["--config", conf], work=work)

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])

try:
    U = lambda *a: struct.pack("<" + "I" * len(a), *a)
    # Frame size: HELLO announces the limit; a bigger frame closes the connection.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    _, _, max_payload = hello(s)
    check("HELLO announces max_frame", max_payload == 69632)
    c = Client(srv.port, srv.key, EX)
    c.s.sendall(frame(OP["lookup"], 5, b"", length=69633))
    check("frame over max_frame: connection closed", closed(c.s))
    check("frame over max_frame: logged", "bad frame header" in srv.log_text())

    # Open handles per connection: the 9th answers EMFILE; releasing one makes room.
    c = Client(srv.port, srv.key, EX)
    handles = []
    for i in range(8):
        st, body = c.call("open", caller() + target(f"f{i}".encode()) + U(os.O_RDONLY))
        if st == 0: handles.append(struct.unpack("<Q", body[:8])[0])
    check("8 handles open", len(handles) == 8)
    check("9th open: EMFILE", c.path("open", b"f8", U(os.O_RDONLY)) == E["EMFILE"])
    check("9th opendir: EMFILE", c.path("opendir", b"") == E["EMFILE"])
    check("9th create: EMFILE", c.path("create", b"new", U(os.O_RDWR, 0o644, 0)) == E["EMFILE"])
    check("EMFILE logged", "too many open files" in srv.log_text())
    check("release one", c.status("release", struct.pack("<Q", handles.pop())) == 0)
    check("then an open works again", c.path("open", b"f9", U(os.O_RDONLY)) == 0)
    other = Client(srv.port, srv.key, EX)
    check("another connection has its own budget", other.path("open", b"f10", U(os.O_RDONLY)) == 0)
    for x in (s, c.s, other.s): x.close()

    def connect_when_free():
        """The server notices closes asynchronously: retry until it has room again."""
        for _ in range(100):
            try: return connect(srv.port, srv.key, EX)
            except (AssertionError, ConnectionError, OSError): time.sleep(0.1)
        return None

    # Connections per address (3): a 4th is closed at once with a log line.
    conns = [connect_when_free() for _ in range(3)]
    extra = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    check("4th connection from one address: closed", closed(extra))
    check("4th connection: logged", "too many connections from this address" in srv.log_text())
    conns.pop().close()
    ok = connect_when_free()
    check("after one closes, a new connection is served", ok is not None)
    for x in conns + [ok]:
        if x: x.close()

    # Idle timeout (its own server, so no other check races with it).
    idle = Server([EX], extra=["--idle-timeout", "1"], work=work)
    s = connect(idle.port, idle.key, EX, timeout=30)
    check("idle connection: closed", closed(s))
    check("idle close: logged", "idle connection, closing" in idle.log_text())
    idle.stop()

    # In flight (2): 300 pipelined SETATTRs (worker operations) are all answered — the
    # server throttles, it does not drop.
    c = Client(srv.port, srv.key, EX)
    chmod = struct.pack("<QIIIIQqIqI", 0, 1, 0o644, 0, 0, 0, 0, 0, 0, 0)
    c.s.sendall(b"".join(frame(OP["setattr"], 1000 + i, caller() + target(b"f1") + chmod) for i in range(300)))
    answers = [recv_frame(c.s) for _ in range(300)]
    check("300 pipelined requests over max_in_flight=2: all answered",
          all(a and a[2] == 0 for a in answers) and sorted(a[1] for a in answers) == list(range(1000, 1300)))

    # A client that floods requests and never reads: the server stops reading it; memory stays bounded.
    before = rss_kib(srv.proc.pid)
    flood = connect(srv.port, srv.key, EX)
    flood.settimeout(3)
    batch = b"".join(frame(OP["lookup"], i, caller() + target(b"f1")) for i in range(20000))
    sent = 0
    try:
        while sent < 400 << 20:
            flood.sendall(batch); sent += len(batch)
    except (socket.timeout, BlockingIOError):
        pass
    after = rss_kib(srv.proc.pid)
    print(f"flood: {sent >> 20} MiB accepted by the socket before it blocked; server RSS {before} -> {after} KiB")
    check("flood: the server stopped reading (socket blocked)", sent < 400 << 20)
    check("flood: server memory grew by less than 64 MiB", after - before < 64 * 1024)
    check("flood: the throttle is logged", "request limit reached" in srv.log_text())
    check("server alive", srv.alive())
finally:
    srv.stop()
    shutil.rmtree(work, ignore_errors=True)
check.exit()
