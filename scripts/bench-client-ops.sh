#!/usr/bin/env bash
# scripts/bench-client-ops.sh LABEL: a quick check that the FUSE client did not get slower,
# much lighter than bench.sh. Through one qtfs-fuse mount (attr and entry timeouts 0, so
# every stat reaches qtfs-fuse: LOOKUP + GETATTR) it times 20,000 stat(2) calls and 20,000
# 4 KiB O_DIRECT preads, three runs each, and prints per operation the wall time and the
# CPU time qtfs-fuse itself used (user, system; from /proc, less sensitive to a busy
# machine than wall time). Compare two builds by running it with each QTFS_BIN in turn;
# QTFS_CRYPT=none runs both ends in plaintext, to compare with the default (sealed frames).
set -euo pipefail
BIN=${QTFS_BIN:-$(cd "$(dirname "$0")/.." && pwd)/.build/release}
W=$(mktemp -d /tmp/qtfs-client-ops.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SP="" FP=""
CRYPT=${QTFS_CRYPT:-aead}
cleanup() {
    fusermount3 -uz "$W/mnt" 2>/dev/null || true
    [ -n "$FP" ] && wait "$FP" 2>/dev/null || true
    [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/exp" "$W/mnt"
head -c 1048576 /dev/urandom > "$W/exp/f"
"$BIN/qtfs-server" --generate-key "$W/k" >/dev/null
"$BIN/qtfs-server" --listen 127.0.0.1 --port "$PORT" --key "$W/k" --crypt "$CRYPT" --export "$W/exp" >"$W/server.log" 2>&1 & SP=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
"$BIN/qtfs-fuse" -f -o "server=127.0.0.1:$PORT,key=$W/k,crypt=$CRYPT,attr_timeout=0,entry_timeout=0" "$W/exp" "$W/mnt" >"$W/fuse.log" 2>&1 & FP=$!
for _ in $(seq 100); do mountpoint -q "$W/mnt" && break; sleep 0.1; done
mountpoint -q "$W/mnt" || { cat "$W/fuse.log" >&2; echo "qtfs-fuse did not mount" >&2; exit 1; }
python3 - "$W/mnt/f" "${1:-qtfs}" "$FP" <<'PY'
import mmap, os, sys, time
path, label, pid = sys.argv[1], sys.argv[2], sys.argv[3]
N, HZ = 20000, os.sysconf("SC_CLK_TCK")

def cpu():  # qtfs-fuse's (user, system) CPU seconds
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) / HZ, int(f[12]) / HZ

def timed(op):  # wall, user, system microseconds per call
    t, c = time.perf_counter(), cpu()
    for i in range(N): op(i)
    c2 = cpu()
    return [(time.perf_counter() - t) / N * 1e6, (c2[0] - c[0]) / N * 1e6, (c2[1] - c[1]) / N * 1e6]

buf = mmap.mmap(-1, 4096)
for run in range(3):
    st = timed(lambda i: os.stat(path))
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    rd = timed(lambda i: os.preadv(fd, [buf], (i % 256) * 4096))
    os.close(fd)
    print(f"{label} run {run + 1}: stat {st[0]:.1f} us (qtfs-fuse user {st[1]:.1f}, sys {st[2]:.1f}); "
          f"4k read {rd[0]:.1f} us (user {rd[1]:.1f}, sys {rd[2]:.1f})", flush=True)
PY
