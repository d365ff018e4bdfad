#!/usr/bin/env bash
# qtfs-run (docs/offload.md): a command on the "DPU" (its own network, mount and pid
# namespaces made by this test, and a chroot) whose mount(2), umount2(2) and unix socket
# connect(2)/bind(2) under a qtfs mount are done on the "host" (this test's own mount
# namespace, where qtfs-server runs); calls outside qtfs mounts stay on the DPU.
source "$(dirname "$0")/lib.sh"
H=$WORK/host ROOT=$WORK/root
run_cleanup() {
    local rc=$?
    [ "$rc" = 0 ] || { tail -20 "$WORK/server.log"; cat "$WORK"/run*.err 2>/dev/null; } >&2
    [ -n "${DPU_INIT:-}" ] && kill -9 "$DPU_INIT" 2>/dev/null
    [ -n "${ECHO_PID:-}" ] && kill "$ECHO_PID" 2>/dev/null
    for m in $(grep -o " $H/mounts/[^ ]*" /proc/self/mountinfo | sort -r); do umount -l "$m" 2>/dev/null; done
    cleanup
    del_netns_pair
}
trap run_cleanup EXIT
make_netns_pair run

log "host: an exported tree and a whitelist"
mkdir -p "$H"/{data,mounts/{tmp,bb,bind,merged,late,x},lower,upper,work,sock,refused}
echo "host data" > "$H/data/hello"; echo "lower file" > "$H/lower/from-lower"
WL=$WORK/whitelist
for g in Open Read Write Readdir Create Mkdir Rmdir Unlink Rename Setattr; do printf '[%s]\nPath=%s\n' "$g" "$H"; done > "$WL"
printf '[Mount]\nPath=%s\n[Udsconnect]\nPath=%s\n' "$H" "$H/sock" >> "$WL"
PORT=12345
export QTFS_CONTROL_DIR=$WORK/ctl   # qtinfo reaches this server's private control socket
nsenter --net="/var/run/netns/$HOST_NS" "$BIN/qtfs-server" --listen "$HOST_IP" --port "$PORT" --key "$KEY" \
    --export "$H" --whitelist "$WL" --unix-connect "$H/sock/" --unix-listen "$H/sock/" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

log "DPU: network, mount and pid namespaces; a chroot with the host's tree mounted at the same path"
nsenter --net="/var/run/netns/$DPU_NS" unshare --mount --pid --fork --mount-proc --propagation private sleep infinity &
wait_for pgrep -P $! -x sleep >/dev/null || fail "the DPU namespaces did not start"
DPU_INIT=$(pgrep -P $! -x sleep)
in_dpu() { nsenter -t "$DPU_INIT" -m -p -n "$@"; }
mkdir -p "$ROOT"/{usr,etc,dev,tmp,proc,"$H"}
for l in bin lib lib64 sbin; do ln -s "usr/$l" "$ROOT/$l"; done
in_dpu sh -ec "for d in usr etc dev; do mount --bind /\$d $ROOT/\$d; done; mount -t proc proc $ROOT/proc"
for _ in $(seq 100); do in_dpu bash -c "exec 3<>/dev/tcp/$HOST_IP/$PORT" 2>/dev/null && break; sleep 0.1; done
in_dpu "$BIN/qtfs-fuse" -o "server=$HOST_IP:$PORT,key=$KEY" "$H" "$ROOT$H" || fail "qtfs-fuse did not start"
wait_for in_dpu mountpoint -q "$ROOT$H" || fail "the qtfs mount did not come up"
log "host: from now on, mounts only beneath $H/mounts (the live whitelist, edited with qtinfo)"
Q() { "$BIN/qtinfo" -C "server-$SERVER_PID" "$@"; }
index=$(Q -z mount | grep -F "$H" | grep -o '^ *[0-9]*' | tr -d ' ')
[ -n "$index" ] || fail "qtinfo -z mount does not list $H: $(Q -z mount)"
Q -w mount -y "$index" >/dev/null && Q -w mount -x "$H/mounts" >/dev/null || fail "qtinfo could not edit the whitelist"
# R CMD...: CMD in the DPU chroot under qtfs-run (stderr kept for the failure report).
R() { in_dpu "$BIN/qtfs-run" -s "$HOST_IP:$PORT" -k "$KEY" -- chroot "$ROOT" "$@" 2>>"$WORK/run.err"; }
on_host() { grep -q " $1 " /proc/self/mountinfo; }
on_dpu() { in_dpu grep -q " $ROOT$1 " /proc/self/mountinfo; }

log "unix sockets: a host server reached by path from the DPU, a DPU server reached from the host"
python3 "$(dirname "$0")/unix_echo.py" "$H/sock/echo.sock" host & ECHO_PID=$!
wait_for test -S "$H/sock/echo.sock" || fail "host echo server did not start"
out=$(R python3 -c "
import socket, sys
c = socket.socket(socket.AF_UNIX); c.connect('$H/sock/echo.sock'); c.sendall(b'ping'); print(c.recv(100).decode())")
[ "$out" = "host:ping" ] || fail "connect from the DPU to a host socket: got '$out'"
