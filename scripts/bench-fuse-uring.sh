#!/usr/bin/env bash
# scripts/bench-fuse-uring.sh [N]: FUSE over io_uring against the /dev/fuse loop, same run,
# same server. Two qtfs-fuse mounts of one export (entry_timeout=0, so every stat is one
# LOOKUP in qtfs-fuse): one with -o uring (enable_uring turned on as root for its mount,
# then put back), one with -o nouring. It times N stat(2), N 4 KiB O_DIRECT preads, N
# creates (open O_CREAT|O_EXCL + close), N unlinks, and N getxattr(security.capability) on
# the open file, which qtfs-fuse answers itself (AbsentXattrs) -- the FUSE transport's own
# cost; by path it would cost a LOOKUP of the server first -- and prints
# per operation the median over batches of 100 calls, the mounts alternating batch by
# batch (load drift on a shared machine hits both alike), and the ratio /dev/fuse : io_uring.
set -euo pipefail
BIN=${QTFS_BIN:-$(cd "$(dirname "$0")/.." && pwd)/.build/release}
source "$(dirname "$0")/uring-param.sh"
[ -w "$URING_PARAM" ] || { echo "needs root and a kernel with CONFIG_FUSE_IO_URING ($URING_PARAM)" >&2; exit 1; }
W=$(mktemp -d /tmp/qtfs-uring-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SP="" PIDS=()
cleanup() {
    uring_param_restore
    fusermount3 -uz "$W/ring" 2>/dev/null || true
    fusermount3 -uz "$W/dev" 2>/dev/null || true
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/exp/ring" "$W/exp/dev" "$W/ring" "$W/dev"
head -c 1048576 /dev/urandom > "$W/exp/f"
"$BIN/qtfs-server" --generate-key "$W/k" >/dev/null
"$BIN/qtfs-server" --listen 127.0.0.1 --port "$PORT" --key "$W/k" --export "$W/exp" >"$W/server.log" 2>&1 & SP=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
mount_one() {  # DIR LOOP
    "$BIN/qtfs-fuse" -f -o "server=127.0.0.1:$PORT,key=$W/k,entry_timeout=0,$2" "$W/exp" "$W/$1" >"$W/$1.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do mountpoint -q "$W/$1" && return 0; sleep 0.1; done
    cat "$W/$1.log" >&2; echo "qtfs-fuse did not mount $1" >&2; exit 1
}
uring_param_on
mount_one ring uring
mount_one dev nouring
ring=0; uring_registered "$BIN/qtinfo" "$W/ring" && ring=1
uring_param_restore
if [ $ring = 0 ]; then   # measuring it would compare /dev/fuse with itself
    tail -5 "$W/ring.log" >&2
    echo "the -o uring mount fell back to /dev/fuse (no ring registered): nothing to compare" >&2; exit 1
fi
"$BIN/qtinfo" --status -C "$W/ring" | grep "request loop" | sed 's/^ */ring mount: /'
"$BIN/qtinfo" --status -C "$W/dev" | grep "request loop" | sed 's/^ */dev mount: /'
python3 - "$W" "${1:-4000}" <<'PY'
import mmap, os, statistics, sys, time
w, n = sys.argv[1], int(sys.argv[2])
BATCH = 100   # calls per batch; the mounts alternate batch by batch, so load drift hits both
buf = mmap.mmap(-1, 4096)

def batch_us(op, start):
    t = time.perf_counter()
    for i in range(start, start + BATCH): op(i)
    return (time.perf_counter() - t) / BATCH * 1e6

def ops(mnt):
    f, d = f"{w}/{mnt}/f", f"{w}/{mnt}/{mnt}"
    fd = os.open(f, os.O_RDONLY | os.O_DIRECT)
    def caps(i):   # on the open file: a path would cost a LOOKUP first (entry_timeout=0)
        try: os.getxattr(fd, "security.capability")
        except OSError: pass
    return {
        "xattr": caps,
        "stat": lambda i: os.stat(f),
        "read4k": lambda i: os.preadv(fd, [buf], (i % 256) * 4096),
        "create": lambda i: os.close(os.open(f"{d}/n{i}", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)),
        "unlink": lambda i: os.unlink(f"{d}/n{i}"),
    }

mounts = {"ring": ops("ring"), "dev": ops("dev")}
print(f"{'op':8} {'/dev/fuse us':>13} {'io_uring us':>12} {'speed-up':>9}   (median of {n // BATCH} alternating batches of {BATCH})")
for op in ("stat", "read4k", "create", "unlink", "xattr"):
    times = {"ring": [], "dev": []}
    for b in range(n // BATCH):
        order = ("ring", "dev") if b % 2 == 0 else ("dev", "ring")
        for m in order: times[m].append(batch_us(mounts[m][op], b * BATCH))
    dev, ring = statistics.median(times["dev"]), statistics.median(times["ring"])
    print(f"{op:8} {dev:13.1f} {ring:12.1f} {dev / ring:8.2f}x", flush=True)
PY
