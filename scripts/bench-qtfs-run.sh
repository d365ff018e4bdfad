#!/bin/bash
# scripts/bench-qtfs-run.sh [--record]: what qtfs-run adds to each system call of the daemon
# it supervises, over loopback: bench/run-calls.c run directly and under qtfs-run, N calls of
# each kind (BENCH_RUN_CALLS, 2000). Prints a Markdown section; --record also puts it in
# docs/performance.md ("## qtfs-run call cost").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${QTFS_BIN:-$ROOT/.build/release}
N=${BENCH_RUN_CALLS:-2000}
log() { printf '[bench-qtfs-run] %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { log "must run as root (mounts, seccomp supervisor)"; exit 1; }
"$ROOT/scripts/deps.sh" >&2

W=$(mktemp -d /tmp/qtfs-bench-run.XXXXXX)
PIDS=()
finish() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    fusermount3 -uz "$W/mnt" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$W"
}
trap finish EXIT
gcc -O2 -o "$W/run-calls" "$ROOT/bench/run-calls.c"
mkdir -p "$W"/{host/sock,mnt,local}
"$BIN/qtfs-server" --generate-key "$W/qtfs.key" >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/qtfs-server" --listen 127.0.0.1 --port "$PORT" --key "$W/qtfs.key" --export "$W/host" \
    --unix-connect "$W/host/sock/" --log-level warning 2>"$W/server.log" &
PIDS+=($!)
python3 "$ROOT/Tests/Integration/unix_echo.py" "$W/host/sock/echo.sock" host &
PIDS+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
"$BIN/qtfs-fuse" -o "server=127.0.0.1:$PORT,key=$W/qtfs.key" "$W/host" "$W/mnt"
for _ in $(seq 100); do [ -S "$W/mnt/sock/echo.sock" ] && break; sleep 0.1; done

# Each run in a private mount namespace: the tmpfs mounts stay there.
CALLS=("$W/run-calls" "$N" "$W/local")
log "$N calls of each kind, directly"
direct=$(unshare -m --propagation private "${CALLS[@]}" -)
log "$N calls of each kind, under qtfs-run"
supervised=$(unshare -m --propagation private "$BIN/qtfs-run" -s "127.0.0.1:$PORT" -k "$W/qtfs.key" -- \
    "${CALLS[@]}" "$W/mnt/sock/echo.sock")

# row KIND WHAT: one table row from both runs' "KIND p50 p90" lines.
row() {
    local d s
    d=$(echo "$direct" | awk -v k="$1" '$1 == k { print $2 " | " $3 }')
    [ -n "$d" ] || d="– | –"
    s=$(echo "$supervised" | awk -v k="$1" '$1 == k { print $2 " | " $3 }')
    echo "| $2 | $d | $s |"
}
SECTION=$(cat <<MD
## qtfs-run call cost

Command: \`scripts/bench-qtfs-run.sh${1:+ $1}\` at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?"), $(date -u +%Y-%m-%d), over loopback on this machine
($(nproc) CPUs). bench/run-calls.c makes $N calls of each kind one after another, directly and
under qtfs-run (the same command), and times each call; µs, p50 | p90. The unix socket
under the qtfs mount belongs to a host echo server (qtfs-fuse mount, default options).

| call | direct p50 | direct p90 | under qtfs-run p50 | under qtfs-run p90 |
|---|---|---|---|---|
$(row untouched "getppid (not in the filter's list)")
$(row inet-connect "TCP connect to a closed port (stopped, let through)")
$(row local-unix "unix connect to a DPU path (stopped, path resolved, let through)")
$(row local-mount "tmpfs mount + umount on a DPU directory (both stopped, let through)")
$(row host-unix "unix connect + close of a socket under the qtfs mount (done through the host)")

The last row has no direct figure: without qtfs-run, a connect to a socket file on a
qtfs-fuse mount is refused by the DPU's kernel (nothing listens there on the DPU).
MD
)
echo "$SECTION"
if [ "${1:-}" = --record ]; then
    echo "$SECTION" | python3 "$ROOT/scripts/record-section.py" "$ROOT/docs/performance.md"
    log "recorded in docs/performance.md"
fi
