#!/usr/bin/env bash
# Faults: the client is killed (kill -9 qtfs-fuse, then umount -l) while files and
# directories are open through it. The server closes every handle and connection it held
# for that client: its fd count returns to what it was before the mount.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faultlib.sh"
mkdir -p "$WORK/export/d"
for i in $(seq 1 20); do echo "$i" > "$WORK/export/d/f$i"; done
start_server "$WORK/export"
BASE=$(settled_fd_count)
mount_fg "$WORK/export" "$WORK/mnt" conns=8
M=$WORK/mnt
FUSE=$!

log "hold 20 files and 3 directories open through the mount"
python3 - "$M" "$WORK/holding" <<'PY' &
import os, sys, time
m = sys.argv[1]
fds = [os.open(f"{m}/d/f{i}", os.O_RDWR) for i in range(1, 21)]
fds += [os.open(f"{m}/new{i}", os.O_WRONLY | os.O_CREAT, 0o644) for i in range(5)]
dirs = [os.scandir(f"{m}/d") for _ in range(3)]
for d in dirs: next(d)
open(sys.argv[2], "w").close()
time.sleep(600)
PY
HOLDER=$!; BG_PIDS+=($!)
wait_for test -e "$WORK/holding" || fail "could not open files through the mount"
HELD=$(fd_count "$SERVER_PID")
[ "$HELD" -ge $((BASE + 8 + 25)) ] || fail "server holds $HELD fds with the client's files open (before: $BASE): expected 8 connections and 25+ handles"
log "server fds: $BASE before the mount, $HELD with files open"

kill -9 "$FUSE"
umount -l "$M" || fail "umount -l after killing qtfs-fuse"
kill -9 "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null || true
back_to_base() { [ "$(fd_count "$SERVER_PID")" -le "$BASE" ]; }
wait_for back_to_base || fail "server still holds $(fd_count "$SERVER_PID") fds after the client died (before: $BASE): $(ls -l /proc/$SERVER_PID/fd | tail -5)"
grep -q "connection closed" "$WORK/server.log" || fail "server did not log the closed connections"
log "server fds back to $(fd_count "$SERVER_PID") after kill -9 of the client"
server_alive

log "SIGTERM stops qtfs-fuse even while a hard mount waits for a server that is gone"
mount_fg "$WORK/export" "$WORK/mnt2" entry_timeout=0,attr_timeout=0
FUSE2=$!
[ "$(cat "$WORK/mnt2/d/f1")" = 1 ] || fail "second mount unusable"
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
( set +e; stat "$WORK/mnt2/d/f2" > "$WORK/stat.out" 2>&1; echo $? > "$WORK/stat.rc" ) &
STATTER=$!; BG_PIDS+=($!)
blocked() { local c; c=$(pgrep -P "$STATTER") && grep -q request_wait_answer "/proc/$c/wchan"; }
wait_for blocked || fail "stat did not wait for the server"
kill -TERM "$FUSE2"
wait_for bash -c "! kill -0 $FUSE2 2>/dev/null" || fail "qtfs-fuse ignored SIGTERM while a request waited for the server"
wait "$STATTER" || true
[ "$(cat "$WORK/stat.rc")" != 0 ] || fail "stat succeeded without a server"
# docs/reliability.md: the waiting request ends with EINTR, not a hang or another error.
grep -q "Interrupted system call" "$WORK/stat.out" || fail "the waiting stat did not end with EINTR: $(cat "$WORK/stat.out")"
log "qtfs-fuse exited; the waiting stat got: $(cat "$WORK/stat.out")"
