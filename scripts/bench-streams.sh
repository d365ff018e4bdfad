#!/bin/bash
# scripts/bench-streams.sh: fifo round trips per second and unix-socket request/response
# latency, locally and through qtfs (a host process on one side, a process on the mount or
# behind the socket bridge on the other), over loopback. Prints a markdown table.
# Called by scripts/bench.sh; runs alone too. Needs root (FUSE mount).
# Environment: QTFS_BIN (.build/release), BENCH_STREAM_ROUNDS (2000 round trips per figure).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${QTFS_BIN:-$ROOT/.build/release}
N=${BENCH_STREAM_ROUNDS:-2000}
W=$(mktemp -d /tmp/qtfs-bench-streams.XXXXXX)
PIDS=()
cleanup() {
    mountpoint -q "$W/mnt" 2>/dev/null && fusermount3 -uz "$W/mnt"
    [ ${#PIDS[@]} -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null
    wait 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/exp" "$W/mnt" "$W/host" "$W/dpu"
mkfifo "$W/exp/a" "$W/exp/b"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/qtfs-server" --listen 127.0.0.1 --port "$PORT" --no-auth --export "$W/exp" --unix-connect "$W/host/" >"$W/server.log" 2>&1 &
PIDS+=($!)
for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
"$BIN/qtfs-fuse" -o "server=127.0.0.1:$PORT,unix_bridge=$W/dpu/echo.sock:$W/host/echo.sock" "$W/exp" "$W/mnt"
for i in $(seq 1 100); do mountpoint -q "$W/mnt" && break; sleep 0.1; done

python3 - "$W" "$N" <<'PY'
import os, socket, sys, threading, time
w, n = sys.argv[1], int(sys.argv[2])
def in_child(body):
    # peers run in their own process: no GIL hand-offs inside the measurement
    pid = os.fork()
    if pid == 0:
        try: body()
        finally: os._exit(0)
    return pid
def echo(path):
    s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(16)
    def serve():
        while True:
            c, _ = s.accept()
            while (b := c.recv(4096)): c.sendall(b)
            c.close()
    return in_child(serve)
def fifo_rtt(mine_dir):
    # the peer (host side) reads a, answers on b; "mine" opens the same fifos via mine_dir
    def peer():
        r = open(w + "/exp/a", "rb", buffering=0); o = open(w + "/exp/b", "wb", buffering=0)
        for _ in range(n): o.write(r.read(16))
    pid = in_child(peer)
    o = open(mine_dir + "/a", "wb", buffering=0); r = open(mine_dir + "/b", "rb", buffering=0)
    start = time.perf_counter()
    for _ in range(n): o.write(b"x" * 16); r.read(16)
    took = time.perf_counter() - start
    os.waitpid(pid, 0); o.close(); r.close()
    return n / took
def sock_rtt(path):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    s.sendall(b"warm"); s.recv(16)
    start = time.perf_counter()
    for _ in range(n): s.sendall(b"y" * 64); s.recv(64)
    took = time.perf_counter() - start
    s.close()
    return took / n * 1e6
echo_pid = echo(w + "/host/echo.sock")
rows = [("fifo round trips per second (16 B, host peer)", fifo_rtt(w + "/exp"), fifo_rtt(w + "/mnt"), "%.0f"),
        ("unix socket request/response µs (64 B)", sock_rtt(w + "/host/echo.sock"), sock_rtt(w + "/dpu/echo.sock"), "%.1f")]
print("| stream workload | local | through qtfs |")
print("|---|---|---|")
for name, local, remote, fmt in rows:
    print(f"| {name} | {fmt % local} | {fmt % remote} |")
os.kill(echo_pid, 15)
PY
