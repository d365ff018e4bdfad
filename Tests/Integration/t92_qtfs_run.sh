#!/usr/bin/env bash
# qtfs-run (docs/offload.md): a command on the "DPU" (its own network, mount and pid
# namespaces made by this test, and a chroot) whose mount(2), umount2(2) and unix socket
# connect(2)/bind(2) under a qtfs mount are done on the "host" (this test's own mount
# namespace, where qtfs-server runs); calls outside qtfs mounts stay on the DPU.
source "$(dirname "$0")/lib.sh"
H=$WORK/host ROOT=$WORK/root
run_cleanup() {
    local rc=$?
    set +e
    [ "$rc" = 0 ] || { tail -20 "$WORK/server.log"; cat "$WORK"/run*.err; } >&2
    [ -n "${DPU_INIT:-}" ] && kill -9 "$DPU_INIT"     # the DPU's pid namespace ends with it
    [ -n "${ECHO_PID:-}" ] && kill "$ECHO_PID"
    [ -n "${FD_PID:-}" ] && kill "$FD_PID"
    for m in $(grep -o " $H/mounts/[^ ]*" /proc/self/mountinfo | sort -r); do umount -l "$m"; done
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
mkdir -p "$QTFS_CONTROL_DIR"
nsenter --net="/var/run/netns/$HOST_NS" "$BIN/qtfs-server" --listen "$HOST_IP" --port "$PORT" --key "$KEY" $CRYPT_SERVER \
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
Q() { nsenter --net="/var/run/netns/$HOST_NS" "$BIN/qtinfo" -C "server-$SERVER_PID" "$@"; }
index=$(Q -z mount | awk -v p="$H" '$1 == "mount" && $3 == p { print $2 }')
[ -n "$index" ] || fail "qtinfo -z mount does not list $H"
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
out=$(R python3 -c "
import socket, threading
def one(i, res):
    c = socket.socket(socket.AF_UNIX); c.connect('$H/sock/echo.sock')
    msg = b'%d' % i * 1000
    c.sendall(msg); c.shutdown(socket.SHUT_WR); got = b''
    while True:
        b = c.recv(65536)
        if not b: break
        got += b
    res[i] = got == b'host:' + msg
res = {}
ts = [threading.Thread(target=one, args=(i, res)) for i in range(50)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sum(res.values()))")
[ "$out" = 50 ] || fail "50 parallel connections from threads of one DPU process: $out answered right"

log "paths are resolved with the caller's rights: a DPU directory it may not search stops it"
chmod 755 "$WORK" "$H" "$H/sock"; chmod 666 "$H/sock/echo.sock"   # the host lets anyone reach it
as_nobody_connect() {
    R setpriv --reuid=65534 --regid=65534 --clear-groups python3 -c "
import socket
c = socket.socket(socket.AF_UNIX)
try: c.connect('$H/sock/echo.sock'); c.sendall(b'ping'); print(c.recv(100).decode())
except PermissionError: print('denied')"
}
[ "$(as_nobody_connect)" = "host:ping" ] || fail "nobody could not reach a host socket open to anyone"
chmod 700 "$ROOT$WORK"        # on the DPU only: the directory above the qtfs mount
[ "$(as_nobody_connect)" = denied ] || fail "nobody reached the host socket through a DPU directory it may not search"
chmod 755 "$ROOT$WORK"; chmod 700 "$WORK"

# A DPU server bound under the qtfs mount; a host client connects at the host path, and a
# second DPU process (forked and exec'd by the first) connects at the same path.
R python3 -c "
import os, socket, subprocess, sys
s = socket.socket(socket.AF_UNIX); s.bind('$H/sock/dpu.sock'); s.listen(8)
open('/tmp/ready', 'w').close()
for _ in range(2):
    a, _ = s.accept(); a.sendall(b'dpu:' + a.recv(100)); a.close()
" & DPU_SERVER=$!
wait_for test -S "$H/sock/dpu.sock" || fail "bind under the qtfs mount made no socket on the host"
out=$(python3 -c "
import socket; c = socket.socket(socket.AF_UNIX); c.connect('$H/sock/dpu.sock'); c.sendall(b'from host'); print(c.recv(100).decode())")
[ "$out" = "dpu:from host" ] || fail "a host client did not reach the DPU server: '$out'"
# Another qtfs-run's client: connected to the DPU server directly (/run/qtfs-run.bound),
# not through the host and back.
out=$(in_dpu "$BIN/qtfs-run" -v -s "$HOST_IP:$PORT" -k "$KEY" -- chroot "$ROOT" python3 -c "
import socket; c = socket.socket(socket.AF_UNIX); c.connect('$H/sock/dpu.sock'); c.sendall(b'from dpu'); print(c.recv(100).decode())" 2>"$WORK/direct.err")
[ "$out" = "dpu:from dpu" ] || fail "a DPU client did not reach the DPU server: '$out' $(cat "$WORK/direct.err")"
grep -q "dpu.sock for pid .*: its listener is on this side" "$WORK/direct.err" \
    || fail "a DPU client of a DPU server went through the host: $(cat "$WORK/direct.err")"
wait "$DPU_SERVER" || fail "the DPU server did not end cleanly"
# (Only this run's entry: a run killed earlier, this test's failure included, leaves its own.)
in_dpu sh -c 'for e in /run/qtfs-run.bound/*; do readlink "$e"; done 2>/dev/null' | has -F "$H/sock/dpu.sock" \
    && fail "the ended server's qtfs-run left its entry in /run/qtfs-run.bound"
out=$(R python3 -c "
import socket
c = socket.socket(socket.AF_UNIX); c.bind('\0qtfs-t92-abstract'); print('abstract ok')
d = socket.socket(socket.AF_UNIX); d.bind('/tmp/local.sock'); print('local ok')")
[ "$out" = $'abstract ok\nlocal ok' ] || fail "abstract and DPU-local binds: '$out'"
in_dpu test -S "$ROOT/tmp/local.sock" || fail "a bind outside qtfs mounts did not stay on the DPU"

log "SCM_RIGHTS: regular files under the qtfs mount and pipes pass both ways; a socket or a DPU-only file is dropped"
printf 0123456789abcdef > "$H/data/passed"; printf "host-side file" > "$H/data/hostfile"
cp "$(dirname "$0")/scm_peer.py" "$ROOT/tmp/"; echo local > "$ROOT/tmp/local-file"
python3 "$ROOT/tmp/scm_peer.py" serve "$H/sock/fd.sock" "$H/data/hostfile" & FD_PID=$!
wait_for test -S "$H/sock/fd.sock" || fail "host fd server did not start"
out=$(R python3 /tmp/scm_peer.py client "$H/sock/fd.sock" "$H/data/passed" /tmp/local-file) \
    || fail "passing descriptors over a relayed connection broke it: '$out' $(tail -3 "$WORK/run.err")"
# The host read 4 bytes at the DPU's offset 4, then wrote through the same descriptor.
[ "$(sed -n 1p <<<"$out")" = "read:4567 fds:1" ] || fail "a DPU file passed to the host: '$out'"
[ "$(cat "$H/data/passed")" = 01234567WXYZcdef ] || fail "the host's write through the passed file: $(cat "$H/data/passed")"
[ "$(sed -n 2p <<<"$out")" = "pipe fds:1 data:through the pipe" ] || fail "a pipe passed to the host, read to its end there: '$out'"
[ "$(sed -n 3p <<<"$out")" = "sock fds:0" ] || fail "a socket passed to the host: '$out'"
[ "$(sed -n 4p <<<"$out")" = "back 1 side file" ] || fail "a host file passed to the DPU (offset 5): '$out'"
[ "$(sed -n 5p <<<"$out")" = "pipe-back 1 from the host" ] || fail "a pipe passed to the DPU, read to its end here: '$out'"
[ "$(sed -n 6p <<<"$out")" = "sock-back 0" ] || fail "a socket passed to the DPU: '$out'"
[ "$(sed -n 7p <<<"$out")" = "read:none fds:0" ] || fail "a DPU-only file passed to the host: '$out'"
grep -q "dropped a file descriptor passed by the local process: a socket" "$WORK/run.err" \
    || fail "qtfs-run did not log the dropped socket"
grep -q "dropped a file descriptor passed by the local process: $ROOT/tmp/local-file: it is not in a qtfs mount" "$WORK/run.err" \
    || fail "qtfs-run did not log the dropped DPU-only file"
grep -q "dropped a file descriptor passed by the local process: a socket" "$WORK/server.log" \
    || fail "the server did not log the dropped socket"
R python3 /tmp/scm_peer.py answer "$H/sock/dpu-fd.sock" "$H/data/hostfile" & DPU_FD_SERVER=$!
wait_for test -S "$H/sock/dpu-fd.sock" || fail "bind of the DPU fd server made no socket on the host"
out=$(python3 "$ROOT/tmp/scm_peer.py" pass "$H/sock/dpu-fd.sock" "$H/data/passed") \
    || fail "a host client passing a file to a DPU server: '$out'"
[ "$out" = "take:234567WXYZcdef 1 host-side file" ] || fail "files passed between a host client and a DPU server: '$out'"
wait "$DPU_FD_SERVER" || fail "the DPU fd server did not end cleanly"

log "mounts: tmpfs with util-linux mount, and with a static busybox"
R mount -t tmpfs -o size=4m t92tmp "$H/mounts/tmp" || fail "mount -t tmpfs under the qtfs mount"
on_host "$H/mounts/tmp" || fail "the tmpfs is not mounted on the host"
on_dpu "$H/mounts/tmp" && fail "the tmpfs was mounted on the DPU too"
R sh -c "echo through-dpu > $H/mounts/tmp/f" || fail "writing into the new tmpfs from the DPU"
[ "$(stat -f -c %T "$H/mounts/tmp/f")" = tmpfs ] && [ "$(cat "$H/mounts/tmp/f")" = through-dpu ] \
    || fail "the DPU's file is not on the host's tmpfs"
R busybox mount -t tmpfs t92bb "$H/mounts/bb" || fail "static busybox mount"
on_host "$H/mounts/bb" || fail "busybox's tmpfs is not mounted on the host"

log "mounts: bind between two qtfs paths, overlay with translated paths, remount read-only"
R mount --bind "$H/data" "$H/mounts/bind" || fail "mount --bind between qtfs paths"
[ "$(cat "$H/mounts/bind/hello")" = "host data" ] || fail "the bind mount does not show the host's data on the host"
R mount -t overlay overlay -o "lowerdir=$H/lower,upperdir=$H/upper,workdir=$H/work" "$H/mounts/merged" \
    || fail "overlay mount with DPU paths"
grep " $H/mounts/merged " /proc/self/mountinfo | grep -q "lowerdir=$H/lower" || fail "overlay options not translated"
[ "$(cat "$H/mounts/merged/from-lower")" = "lower file" ] || fail "the merged view on the host lacks the lower file"
[ "$(R cat "$H/mounts/merged/from-lower")" = "lower file" ] || fail "the merged view through qtfs on the DPU lacks the lower file"
R sh -c "echo upper > $H/mounts/merged/new" || fail "writing into the overlay from the DPU"
[ "$(cat "$H/upper/new")" = upper ] || fail "the overlay write did not land in the host's upperdir"
R mount -o remount,ro "$H/mounts/tmp" || fail "remount read-only"
grep " $H/mounts/tmp " /proc/self/mountinfo | grep -q " ro[, ]" || fail "the host's tmpfs is not read-only after remount"
R sh -c "echo x > $H/mounts/tmp/g" 2>/dev/null && fail "writing into the read-only tmpfs worked"

log "umount and umount -l"
R umount "$H/mounts/bb" || fail "umount"
on_host "$H/mounts/bb" && fail "busybox's tmpfs is still mounted on the host after umount"
R umount -l "$H/mounts/bind" || fail "umount -l"
on_host "$H/mounts/bind" && fail "the bind is still mounted on the host after umount -l"

log "refusals: a target outside [Mount], a bind source that exists only on the DPU"
R mount -t tmpfs t92no "$H/refused" && fail "a mount outside the whitelist's [Mount] places worked"
on_host "$H/refused" && fail "the refused mount happened on the host"
grep -q "host mount refused" "$WORK/server.log" || fail "the server did not log the refusal"
R mount --bind /tmp "$H/mounts/x" && fail "binding a DPU-only directory worked"
grep -q "the source is not under a qtfs mount" "$WORK/run.err" || fail "qtfs-run did not say why the bind failed"

log "a mount outside qtfs mounts stays on the DPU; the new mount API gets ENOSYS"
R sh -ec "mkdir -p /tmp/localmnt; mount -t tmpfs t92local /tmp/localmnt" || fail "a local mount under qtfs-run"
on_dpu /tmp/localmnt || fail "the local mount is not on the DPU"
grep -q t92local /proc/self/mountinfo && fail "the local mount reached the host"
out=$(R python3 -c "
import ctypes, errno; libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(430, b'tmpfs', 0)   # fsopen
print(r, errno.errorcode.get(ctypes.get_errno()))")
[ "$out" = "-1 ENOSYS" ] || fail "fsopen under qtfs-run: $out"

log "the supervisor killed mid-run: its command dies with it, a survivor's mount gets ENOSYS"
in_dpu "$BIN/qtfs-run" -s "$HOST_IP:$PORT" -k "$KEY" -- chroot "$ROOT" sh -c \
    "(sleep 2; mount -t tmpfs t92late $H/mounts/late 2>/tmp/late.err; echo \$? > /tmp/late.rc) & exec sleep 60" &
RUN_PID=$!
wait_for in_dpu pgrep -f "exec sleep 60|^sleep 60" >/dev/null
sleep 0.5
# The supervisor as the DPU's pid namespace numbers it (other tests may run a qtfs-run too).
SUPERVISOR=$(in_dpu pgrep -x qtfs-run) && [ -n "$SUPERVISOR" ] || fail "no qtfs-run in the DPU"
in_dpu kill -9 "$SUPERVISOR"
wait "$RUN_PID" 2>/dev/null || true
wait_for in_dpu test -s "$ROOT/tmp/late.rc" || fail "the surviving subshell never tried its mount"
[ "$(in_dpu cat "$ROOT/tmp/late.rc")" != 0 ] || fail "a mount after the supervisor died succeeded"
in_dpu grep -q "not implemented" "$ROOT/tmp/late.err" || fail "the survivor's mount did not fail with ENOSYS: $(in_dpu cat "$ROOT/tmp/late.err")"
on_host "$H/mounts/late" && fail "the survivor's mount reached the host"
in_dpu pgrep -f "^sleep 60" >/dev/null && fail "the command outlived its killed supervisor"
server_alive
log "qtfs-run: all checks passed"
