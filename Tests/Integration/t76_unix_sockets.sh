#!/usr/bin/env bash
# The unix socket bridge through a real server and qtfs-fuse: curl on the DPU side against
# an HTTP server on a host socket, 100 concurrent checksummed connections each way,
# SOCK_SEQPACKET message boundaries, clean close from either end, paths not allowed.
source "$(dirname "$0")/lib.sh"
EXP=$WORK/export MNT=$WORK/mnt H=$WORK/host D=$WORK/dpu
mkdir -p "$EXP" "$H" "$D" "$WORK/mnt2"
export H D WORK
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; cleanup' EXIT

# Host side servers (stand-ins for containerd's API) and DPU side servers (a shim).
cat >"$WORK/servers.py" <<'PY'
import hashlib, os, socket, socketserver, sys, threading, http.server
def echo_stream(sock):
    with sock:
        while True:
            b = sock.recv(65536)
            if not b: break
            sock.sendall(b)
def echo_seq(sock):
    with sock:
        while True:
            b = sock.recv(300000)
            if not b: break
            sock.send(b"%d:" % len(b) + hashlib.sha256(b).hexdigest().encode())
def serve(path, kind, handler):
    s = socket.socket(socket.AF_UNIX, kind); s.bind(path); s.listen(256)
    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=handler, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = b"host api says hi " + self.path.encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
class U(socketserver.ThreadingMixIn, socketserver.UnixStreamServer): daemon_threads = True
side = sys.argv[1]
d = os.environ[side]
serve(d + "/echo.sock", socket.SOCK_STREAM, echo_stream)
serve(d + "/seq.sock", socket.SOCK_SEQPACKET, echo_seq)
if side == "H":
    threading.Thread(target=U(d + "/api.sock", H).serve_forever, daemon=True).start()
open(d + "/ready", "w").close()
threading.Event().wait()
PY
python3 "$WORK/servers.py" H & PIDS+=($!)
python3 "$WORK/servers.py" D & PIDS+=($!)
for i in $(seq 1 100); do [ -e "$H/ready" ] && [ -e "$D/ready" ] && break; sleep 0.1; done

# The server allows connects beneath $H/ and listening at $H/from-dpu-*.
PORT=$(free_port)
"$BIN/qtfs-server" --listen 127.0.0.1 --port "$PORT" --key "$KEY" $CRYPT_SERVER --export "$EXP" \
    --unix-connect "$H/" --unix-listen "$H/from-dpu-echo.sock" --unix-listen "$H/from-dpu-seq.sock" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
BRIDGES="unix_bridge=$D/to-host-fd.sock:$H/fd.sock:seqpacket,unix_bridge=$D/api.sock:$H/api.sock,unix_bridge=$D/to-host-echo.sock:$H/echo.sock,unix_bridge=$D/to-host-seq.sock:$H/seq.sock:seqpacket,unix_bridge=$D/nope.sock:/run/not-allowed.sock,unix_serve=$H/from-dpu-echo.sock:$D/echo.sock,unix_serve=$H/from-dpu-seq.sock:$D/seq.sock:seqpacket"
# In the foreground: the bridge's log lines (a dropped descriptor) go to fuse-mnt.log.
mkdir -p "$MNT"
"$BIN/qtfs-fuse" -f -o "server=127.0.0.1:$PORT,key=$KEY,$BRIDGES" "$EXP" "$MNT" >"$WORK/fuse-mnt.log" 2>&1 &
PIDS+=($!); MOUNTS+=("$MNT")
wait_for mountpoint -q "$MNT" || fail "qtfs-fuse did not mount: $(cat "$WORK/fuse-mnt.log")"

log "curl on the DPU against the HTTP API on a host unix socket"
out=$(timeout 20 curl -s --unix-socket "$D/api.sock" http://localhost/v1/info) || fail "curl failed"
[ "$out" = "host api says hi /v1/info" ] || fail "curl got '$out'"

cat >"$WORK/client.py" <<'PY'
import hashlib, os, socket, sys, threading
path, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
errors = []
def stream_one(i):
    data = os.urandom(1000 + (i * 7919) % 300000)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(60); s.connect(path)
    threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)), daemon=True).start()
    got = bytearray()
    while True:
        b = s.recv(65536)
        if not b: break
        got += b
    s.close()
    if hashlib.sha256(got).digest() != hashlib.sha256(data).digest(): errors.append(f"stream {i}: {len(got)} of {len(data)} bytes, checksum differs")
def seq_one(i):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.settimeout(60); s.connect(path)
    for size in (1, 100, 4096, 65536, 200000):
        m = os.urandom(size); s.send(m)
        want = b"%d:" % size + hashlib.sha256(m).hexdigest().encode()
        got = s.recv(1000)
        if got != want: errors.append(f"seqpacket {i}: message of {size} answered {got[:40]!r}")
    s.close()
one = stream_one if kind == "stream" else seq_one
def guarded(i):
    try: one(i)
    except Exception as e: errors.append(f"{kind} {i}: {e!r}")
ts = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
[t.start() for t in ts]; [t.join() for t in ts]
if errors: print("\n".join(errors[:10])); sys.exit(1)
PY
log "DPU -> host: 100 concurrent SOCK_STREAM connections with checksummed payloads"
timeout 120 python3 "$WORK/client.py" "$D/to-host-echo.sock" stream 100 || fail "stream DPU -> host"
log "DPU -> host: SOCK_SEQPACKET keeps message boundaries (20 connections)"
timeout 120 python3 "$WORK/client.py" "$D/to-host-seq.sock" seq 20 || fail "seqpacket DPU -> host"
log "host -> DPU: 100 concurrent SOCK_STREAM connections with checksummed payloads"
timeout 120 python3 "$WORK/client.py" "$H/from-dpu-echo.sock" stream 100 || fail "stream host -> DPU"
log "host -> DPU: SOCK_SEQPACKET (20 connections)"
timeout 120 python3 "$WORK/client.py" "$H/from-dpu-seq.sock" seq 20 || fail "seqpacket host -> DPU"

log "clean close from either end; a descriptor that cannot pass is dropped; a path the server does not allow is closed at once"
timeout 60 python3 - <<'PY' || fail "close semantics"
import os, socket
H, D = os.environ["H"], os.environ["D"]
# the remote server closes first: the client reads EOF after the answer
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(D + "/api.sock")
s.sendall(b"GET /x HTTP/1.0\r\n\r\n")
data = b""
while True:
    b = s.recv(4096)
    if not b: break
    data += b
assert data.endswith(b"host api says hi /x"), data
# the client closes first: the remote echo server sees EOF and closes its end too
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(H + "/from-dpu-echo.sock")
s.sendall(b"abc"); assert s.recv(10) == b"abc"; s.shutdown(socket.SHUT_WR)
assert s.recv(10) == b"", "no EOF after our shutdown"
# A descriptor that cannot cross machines (a character device): its message's bytes are
# relayed without it, and the connection goes on
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(D + "/to-host-echo.sock")
s.sendall(b"plain"); assert s.recv(10) == b"plain"
socket.send_fds(s, [b"with fd"], [os.open("/dev/null", os.O_RDONLY)])
got = b""
while len(got) < 7: got += s.recv(10)
assert got == b"with fd", ("the bytes sent with a descriptor", got)
s.sendall(b"after"); assert s.recv(10) == b"after", "the connection did not go on"
# not allowed by the server: accepted locally, then closed without data
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(D + "/nope.sock")
assert s.recv(10) == b"", "a forbidden bridge carried data"
PY
grep -q "not allowed" "$WORK/server.log" || fail "no log line for the refused path"
grep -q "dropped a file descriptor passed by the local process: a character device" "$WORK/fuse-mnt.log" \
    || fail "no log line for the dropped descriptor: $(cat "$WORK/fuse-mnt.log")"

log "SCM_RIGHTS over a unix_bridge (SOCK_SEQPACKET): a file of the mount and a pipe pass both ways, a socket is dropped"
printf 0123456789abcdef > "$EXP/passed"; printf "host-side file" > "$EXP/hostfile"; echo local > "$D/local"
SCM_PEER_TYPE=seqpacket python3 "$(dirname "$0")/scm_peer.py" serve "$H/fd.sock" "$EXP/hostfile" & PIDS+=($!)
wait_for test -S "$H/fd.sock" || fail "host fd server did not start"
out=$(SCM_PEER_TYPE=seqpacket timeout 30 python3 "$(dirname "$0")/scm_peer.py" client "$D/to-host-fd.sock" "$MNT/passed" "$D/local") \
    || fail "passing descriptors over a unix_bridge broke it: '$out'"
[ "$out" = $'read:4567 fds:1\npipe fds:1 data:through the pipe\nsock fds:0\nback 1 side file\npipe-back 1 from the host\nsock-back 0\nread:none fds:0' ] \
    || fail "descriptors over a unix_bridge: '$out'"
[ "$(cat "$EXP/passed")" = 01234567WXYZcdef ] || fail "the host's write through the passed file: $(cat "$EXP/passed")"
grep -q "dropped a file descriptor passed by the local process: $D/local: it is not in a qtfs mount" "$WORK/fuse-mnt.log" \
    || fail "qtfs-fuse did not log the dropped DPU-only file: $(cat "$WORK/fuse-mnt.log")"

log "a listen path outside unix_listen is refused with a clear message"
if timeout 20 "$BIN/qtfs-fuse" -f -o "server=127.0.0.1:$PORT,key=$KEY,unix_serve=$H/other.sock:$D/echo.sock" "$EXP" "$WORK/mnt2" 2>"$WORK/refused.log"; then
    fail "mount with a forbidden unix_serve succeeded"
fi
grep -q "unix_listen" "$WORK/refused.log" || fail "refusal does not say what to do: $(cat "$WORK/refused.log")"
server_alive

log "with a whitelist, bridged sockets must also be in its [Udsconnect] group"
printf '[Open]\nPath=%s\n[Readdir]\nPath=%s\n[Mount]\nPath=%s\n[Udsconnect]\nPath=%s\n' "$EXP" "$EXP" "$EXP" "$H/api.sock" >"$WORK/whitelist"
PORT2=$(free_port)
"$BIN/qtfs-server" --listen 127.0.0.1 --port "$PORT2" --key "$KEY" $CRYPT_SERVER --export "$EXP" --unix-connect "$H/" \
    --whitelist "$WORK/whitelist" >"$WORK/server2.log" 2>&1 &
PIDS+=($!)
for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT2") 2>/dev/null && break; sleep 0.1; done
PORT=$PORT2 mount_qtfs "$EXP" "$WORK/mnt3" "unix_bridge=$D/wl-api.sock:$H/api.sock,unix_bridge=$D/wl-echo.sock:$H/echo.sock"
out=$(timeout 20 curl -s --unix-socket "$D/wl-api.sock" http://localhost/wl) || fail "curl through a whitelisted socket failed"
[ "$out" = "host api says hi /wl" ] || fail "curl through a whitelisted socket got '$out'"
python3 - <<PY || fail "a socket outside [Udsconnect] carried data"
import socket
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect("$D/wl-echo.sock")
try:
    s.sendall(b"x")
    got = s.recv(10)
except (ConnectionResetError, BrokenPipeError):
    got = b""   # closed with our byte unread: a reset, no data either
assert got == b""
PY
grep -q "Udsconnect" "$WORK/server2.log" || fail "no log line for the socket outside [Udsconnect]"
log "PASS"
