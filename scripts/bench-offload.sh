#!/bin/bash
# scripts/bench-offload.sh [--record]: the time from `ctr run` to the exit of a container
# running /bin/true, with containerd offloaded (scripts/offload-demo.sh: containerd on the
# DPU side, shim and container on the host) beside containerd running directly on this
# host, in the same run. N runs of each (BENCH_OFFLOAD_RUNS, 20), one after another, from a
# busybox root directory and from an imported image (overlayfs snapshotter).
# Prints a Markdown section; --record also puts it in docs/performance.md
# ("## Container offload").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export QTFS_BIN=${QTFS_BIN:-$ROOT/.build/release}
RUNS=${BENCH_OFFLOAD_RUNS:-20}
DEMO=$ROOT/scripts/offload-demo.sh
STATE=/run/qtfs-offload-demo RFS=/run/qtfs-offload-demo/busybox-rootfs
IMAGE=docker.io/library/qtfs-bench:1
log() { printf '[bench-offload] %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { log "must run as root (namespaces, mounts, containerd)"; exit 1; }
"$ROOT/scripts/deps.sh" >&2
[ -e "$STATE" ] && { log "the offload demo is set up; run '$DEMO stop' first"; exit 1; }

W=$(mktemp -d /tmp/qtfs-bench-offload.XXXXXX)
LOCAL_PID=""
finish() {
    [ -n "$LOCAL_PID" ] && kill "$LOCAL_PID" 2>/dev/null && wait "$LOCAL_PID" 2>/dev/null
    # The offloaded image lives in the host's /var/lib/containerd: removed, not left behind.
    [ -e "$STATE" ] && "$DEMO" ctr image rm --sync "$IMAGE" >/dev/null 2>&1
    "$DEMO" stop >/dev/null 2>&1
    rm -rf "$W"
}
trap finish EXIT
gcc -O2 -o "$W/spawn-time" "$ROOT/bench/spawn-time.c"
python3 "$ROOT/Tests/Integration/busybox_oci.py" "$W/image.tar" "$IMAGE"

log "offloaded: scripts/offload-demo.sh setup"
"$DEMO" setup >"$W/setup.log" 2>&1 || { cat "$W/setup.log" >&2; exit 1; }
cp "$W/image.tar" "$STATE/image.tar"
"$DEMO" ctr image import "$STATE/image.tar" >/dev/null
# What `offload-demo.sh ctr` runs, without the script's own bash start-up.
DPU_CTR=(nsenter -t "$(cat "$STATE/dpu.pid")" -m -p -n "$QTFS_BIN/qtfs-run" -s 10.77.0.1:12345
         -k "$STATE/qtfs.key" -- chroot "$STATE/another_rootfs" ctr)

log "local: containerd with its own root, state and socket in $W"
containerd --root "$W/root" --state "$W/state" --address "$W/containerd.sock" >"$W/containerd.log" 2>&1 &
LOCAL_PID=$!
LOCAL_CTR=(ctr --address "$W/containerd.sock")
for _ in $(seq 100); do "${LOCAL_CTR[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
"${LOCAL_CTR[@]}" image import "$W/image.tar" >/dev/null

# latency ID SOURCE CTR...: p50 p90 max µs of `CTR run --rm SOURCE ID /bin/true`; SOURCE is
# "--rootfs DIR" or an image name (word-split on purpose).
latency() {
    local id=$1 source=$2; shift 2
    # shellcheck disable=SC2086
    "$W/spawn-time" "$RUNS" "$(command -v "$1")" "${@:2}" run --rm $source "$id" /bin/true
}
log "ctr run to exit of /bin/true, $RUNS runs each"
local_dir=$(latency bench-local-dir "--rootfs $RFS" "${LOCAL_CTR[@]}")
off_dir=$(latency bench-off-dir "--rootfs $RFS" "${DPU_CTR[@]}")
local_img=$(latency bench-local-img "$IMAGE" "${LOCAL_CTR[@]}")
off_img=$(latency bench-off-img "$IMAGE" "${DPU_CTR[@]}")

ratio() { awk -v a="$(echo "$1" | cut -d' ' -f1)" -v b="$(echo "$2" | cut -d' ' -f1)" 'BEGIN { printf "%.2f×", a / b }'; }
row() { echo "| $1 | $(echo "$2" | awk '{printf "%.1f | %.1f | %.1f", $1/1000, $2/1000, $3/1000}') |"; }
SECTION=$(cat <<MD
## Container offload

Command: \`scripts/bench-offload.sh${1:+ $1}\` at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?"), $(date -u +%Y-%m-%d), on this machine ($(nproc) CPUs).
Time from starting \`ctr run --rm\` to its exit, for a container running \`/bin/true\`
($RUNS runs each, one after another, timed by bench/spawn-time.c), with Debian's
containerd $(containerd --version | awk '{print $3}') and runc. **Local**: containerd on this host.
**Offloaded**: scripts/offload-demo.sh, containerd and ctr on the DPU side (own network,
mount and pid namespaces over a veth, under qtfs-run, the host's trees on qtfs-fuse mounts
with default options), the shim started on the host through qtfs-rexec. Both include
ctr's own start-up; the offloaded one also qtfs-run's. Caches: every run creates and
removes a container, so its bundle, fifos, sockets and cgroup are new names the DPU asks
the host for (no negative entries are cached); the image's layer is in the page cache.

| run | p50 ms | p90 ms | max ms |
|---|---|---|---|
$(row "local, --rootfs DIR" "$local_dir")
$(row "offloaded, --rootfs DIR" "$off_dir")
$(row "local, imported image" "$local_img")
$(row "offloaded, imported image" "$off_img")

Offloaded over local (p50): $(ratio "$off_dir" "$local_dir") from a directory, $(ratio "$off_img" "$local_img") from an image; the target is 2× or less.
MD
)
echo "$SECTION"
if [ "${1:-}" = --record ]; then
    doc=$ROOT/docs/performance.md
    echo "$SECTION" | python3 "$ROOT/scripts/record-section.py" "$doc"
    log "recorded in $doc"
fi
