#!/usr/bin/env bash
# The demo: sets up a fresh Debian 12 machine (packages, release build), serves this
# machine's / on loopback with qtfs-server, mounts it with qtfs-fuse, and shows host
# files and /proc through the mount.
#   scripts/demo.sh          set up, start and mount
#   scripts/demo.sh stop     unmount and stop the server
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH=/opt/swift/usr/bin:$PATH
MNT=${QTFS_DEMO_MNT:-/mnt/qtfs-demo}
PORT=${QTFS_DEMO_PORT:-12345}
STATE=/tmp/qtfs-demo
KEY=$STATE/qtfs.key   # the demo's pre-shared key; a real host keeps it as /etc/qtfs/qtfs.key
BIN=$PWD/.build/release

stop() {
    for m in "$MNT/proc" "$MNT"; do
        mountpoint -q "$m" && { umount "$m" 2>/dev/null || umount -l "$m"; }
    done
    if [ -f "$STATE/server.pid" ]; then kill "$(cat "$STATE/server.pid")" 2>/dev/null || true; rm -f "$STATE/server.pid"; fi
    echo "qtfs demo stopped: $MNT unmounted, server stopped."
}
if [ "${1:-}" = "stop" ]; then stop; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "The demo mounts a file system: run it as root (sudo $0)." >&2; exit 1; }

echo "== 1. packages"; scripts/deps.sh
echo "== 2. release build"; swift build -c release 2>&1 | tail -1
mountpoint -q "$MNT" && stop >/dev/null

echo "== 3. qtfs-server on 127.0.0.1:$PORT, exporting /"
mkdir -p "$STATE" "$MNT"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "Port $PORT is already in use. Stop what uses it, or run: QTFS_DEMO_PORT=12400 $0" >&2; exit 1
fi
[ -f "$KEY" ] || "$BIN/qtfs-server" --generate-key "$KEY"
"$BIN/qtfs-server" --listen 127.0.0.1 --port "$PORT" --key "$KEY" --export / >"$STATE/server.log" 2>&1 &
echo $! > "$STATE/server.pid"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

echo "== 4. qtfs-fuse: host / on $MNT, host /proc on $MNT/proc"
"$BIN/qtfs-fuse" -o "server=127.0.0.1:$PORT,key=$KEY" / "$MNT"
"$BIN/qtfs-fuse" -o "server=127.0.0.1:$PORT,key=$KEY,proc" /proc "$MNT/proc"

show() { echo; echo "\$ $*"; "$@"; }
show ls "$MNT"
show head -3 "$MNT/etc/os-release"
show head -3 "$MNT/proc/meminfo"
show cat "$MNT/proc/loadavg"
show grep -E "^(Name|Pid|State)" "$MNT/proc/1/status"
show df -h "$MNT"
echo
echo "The host's / is mounted on $MNT (server log: $STATE/server.log; both sides authenticate with the key $KEY)."
echo "Unmount and stop with: $0 stop   (or: umount $MNT/proc $MNT; kill \$(cat $STATE/server.pid))"
