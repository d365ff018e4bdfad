# Shared helpers for the integration tests. A test is an executable that exits 0 to pass,
# 77 to skip, anything else to fail; it runs in its own temporary directory.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${QTFS_BIN:-$REPO/.build/release}
WORK=$(mktemp -d /tmp/qtfs-test.XXXXXX)
SERVER_PID=""
MOUNTS=()

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
# PRODUCER | has GREP-ARGS...: grep -q that reads all of its input first. A bare grep -q
# stops at the first match, so under pipefail a producer still writing dies of SIGPIPE
# and the check fails at random.
has() { local all; all=$(cat); grep -q "$@" <<<"$all"; }

cleanup() {
    local m
    for m in "${MOUNTS[@]:-}"; do
        [ -n "$m" ] && { fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
    done
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Every test authenticates with a fresh key, as a real deployment does.
KEY=$WORK/qtfs.key
"$BIN/qtfs-server" --generate-key "$KEY" >/dev/null

# QTFS_TEST_CRYPT=none (or aead): the test's servers (started with $CRYPT_SERVER, as
# start_server does) and its clients (through the client configuration, which qtfs-fuse,
# qtfs-rexec and qtfs-run read) use that crypt mode on both ends. Unset: the defaults,
# sealed frames with the test key.
CRYPT_SERVER=""
if [ -n "${QTFS_TEST_CRYPT:-}" ]; then
    CRYPT_SERVER="--crypt $QTFS_TEST_CRYPT"
    printf 'crypt = %s\n' "$QTFS_TEST_CRYPT" >"$WORK/client.conf"
    export QTFS_CLIENT_CONF=$WORK/client.conf
fi

# start_server EXPORT...: starts qtfs-server on a free loopback port, sets PORT.
start_server() {
    PORT=$(free_port)
    local args=() e
    for e in "$@"; do args+=(--export "$e"); done
    # SERVER_ARGS: extra qtfs-server options from the test (word-split on purpose).
    "$BIN/qtfs-server" --listen 127.0.0.1 --port "$PORT" --key "$KEY" "${args[@]}" $CRYPT_SERVER ${SERVER_ARGS:-} >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    local i
    for i in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; fail "qtfs-server exited at start"; }
        sleep 0.1
    done
    fail "qtfs-server did not listen on $PORT"
}

# mount_qtfs HOSTPATH MOUNTPOINT [extra -o options]: FUSE mount with the test key, waits until it is up.
mount_qtfs() {
    local src=$1 dst=$2 opts=${3:-}
    mkdir -p "$dst"
    "$BIN/qtfs-fuse" -o "server=127.0.0.1:$PORT,key=$KEY${opts:+,$opts}" "$src" "$dst" >"$WORK/fuse-$(basename "$dst").log" 2>&1 &
    MOUNTS+=("$dst")
    local i
    for i in $(seq 1 100); do
        if mountpoint -q "$dst"; then return 0; fi
        sleep 0.1
    done
    cat "$WORK"/fuse-*.log >&2 || true
    fail "qtfs-fuse did not mount $src on $dst"
}

server_alive() { kill -0 "$SERVER_PID" 2>/dev/null || fail "qtfs-server died: $(tail -5 "$WORK/server.log")"; }
# op_count COMPONENT OP: how many OP requests COMPONENT (as qtinfo -C takes it: server,
# server-PID, a mount point) has answered so far.
op_count() {
    "$BIN/qtinfo" --stats --json -C "$1" | python3 -c '
import json, sys
c = json.load(sys.stdin)["components"][0]
print(sum(o["count"] for o in c.get("stats") or [] if o["op"] == sys.argv[1]))' "$2"
}

# interrupted_fifo_read HOST_FIFO MOUNT_FIFO: with a host writer holding HOST_FIFO open, a
# read of MOUNT_FIFO blocked in qtfs-fuse is interrupted by a signal (SIGALRM after 0.5 s),
# and the cancelled read does not take what the host writes next.
interrupted_fifo_read() {
    timeout 30 python3 - "$1" "$2" <<'PY'
import os, signal, sys
host, mnt = sys.argv[1], sys.argv[2]
class Alarm(Exception): pass
def alarm(*a): raise Alarm()   # raising makes Python give up the read instead of retrying
signal.signal(signal.SIGALRM, alarm)
w = os.open(host, os.O_RDWR)   # a host writer, so the open does not wait
r = os.open(mnt, os.O_RDONLY)
signal.setitimer(signal.ITIMER_REAL, 0.5)
try:
    os.read(r, 10); raise SystemExit("read returned")
except Alarm:
    pass
os.write(w, b"after")
assert os.read(r, 10) == b"after", "the cancelled read took the host's next write"
os.close(r); os.close(w)
PY
}

# wait_for CONDITION-COMMAND...: polls up to ~60 s (no timing is asserted, only progress).
wait_for() {
    local i
    for i in $(seq 1 600); do "$@" && return 0; sleep 0.1; done
    return 1
}

# sleeping_in FUNCTIONS PID...: true when each process, or one of its children, sleeps in
# one of these kernel functions (/proc/PID/wchan; FUNCTIONS is an extended regex):
# request_wait_answer is a FUSE request waiting for qtfs-fuse's answer (a blocked open,
# read or stat), fuse_direct_IO an O_DIRECT read waiting for its READs, wait_for_partner
# a local fifo open.
sleeping_in() {
    local fn=$1 p c found
    shift
    for p in "$@"; do
        found=0
        for c in "$p" $(pgrep -P "$p"); do
            grep -qxE "$fn" "/proc/$c/wchan" 2>/dev/null && { found=1; break; }
        done
        [ "$found" = 1 ] || return 1
    done
}

# mount_tmpfs DIR...: a fresh tmpfs (mode 1777) on each DIR, unmounted at exit; for tests
# that compare the mount with a local tmpfs directory.
mount_tmpfs() {
    local d
    for d in "$@"; do
        mkdir -p "$d"
        mount -t tmpfs -o mode=1777 "qtfs-test-$(basename "$d")" "$d"
        MOUNTS+=("$d")
    done
}

# make_netns_pair TAG: a "host" and a "dpu" network namespace joined by a veth pair, for
# tests that separate the two sides; sets HOST_NS, DPU_NS, HOST_IP and DPU_IP. Remove them
# with del_netns_pair.
make_netns_pair() {
    local tag=$1
    HOST_NS=qtfs-$tag-h-$$; DPU_NS=qtfs-$tag-d-$$
    HOST_IP=10.$((233 + RANDOM % 20)).$((RANDOM % 200)).1; DPU_IP=${HOST_IP%.1}.2
    ip netns add "$HOST_NS"; ip netns add "$DPU_NS"
    ip link add "$tag$$h" type veth peer name "$tag$$d"
    ip link set "$tag$$h" netns "$HOST_NS"; ip link set "$tag$$d" netns "$DPU_NS"
    ip -n "$HOST_NS" addr add "$HOST_IP/24" dev "$tag$$h"; ip -n "$HOST_NS" link set "$tag$$h" up
    ip -n "$DPU_NS" addr add "$DPU_IP/24" dev "$tag$$d"; ip -n "$DPU_NS" link set "$tag$$d" up
    ip -n "$HOST_NS" link set lo up; ip -n "$DPU_NS" link set lo up
}
del_netns_pair() { ip netns del "$HOST_NS" 2>/dev/null; ip netns del "$DPU_NS" 2>/dev/null; true; }
