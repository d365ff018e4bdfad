#!/usr/bin/env bash
# Faults: the server is killed with -9 and restarted while a client copies a 1 GiB file
# and another process lists directories in a loop. The client redials by itself, re-opens
# the two open files and the directory handles, repeats what was in flight, and the copy
# ends with the right checksum (docs/client.md, "Faults").
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faultlib.sh"
mkdir -p "$WORK/export/tree"
for d in a b c d; do mkdir -p "$WORK/export/tree/$d"; for f in 1 2 3 4 5 6 7 8; do echo "$d$f" > "$WORK/export/tree/$d/$f"; done; done
head -c 1073741824 /dev/urandom > "$WORK/export/src"
SUM=$(sha256sum < "$WORK/export/src" | cut -d' ' -f1)
start_server "$WORK/export"
mount_fg "$WORK/export" "$WORK/mnt"
M=$WORK/mnt

log "lister: ls -lR in a loop; copier: cp of 1 GiB, both through the mount"
( n=0; while [ ! -e "$WORK/stop" ]; do
      out=$(ls -lR "$M/tree" 2>&1) || { echo "ls failed: $out" >> "$WORK/lister.err"; }
      [ "$(printf '%s\n' "$out" | grep -c '^-')" = 32 ] || echo "ls saw $(printf '%s\n' "$out" | grep -c '^-') files" >> "$WORK/lister.err"
      n=$((n + 1)); echo $n > "$WORK/lister.count"
  done ) &
LISTER=$!; BG_PIDS+=($!)
cp "$M/src" "$M/dst" 2> "$WORK/cp.err" &
CP=$!; BG_PIDS+=($!)

listings() { cat "$WORK/lister.count" 2>/dev/null || echo 0; }
half() { { [ "$(size_of "$WORK/export/dst")" -gt 268435456 ] && [ "$(listings)" -gt 0 ]; } || ! kill -0 $CP 2>/dev/null; }
wait_for half || fail "the copy made no progress"
kill -0 $CP 2>/dev/null || fail "cp ended before the server was killed (too fast to test; $(size_of "$WORK/export/dst") bytes)"
BEFORE=$(listings)
log "kill -9 the server at $(size_of "$WORK/export/dst") bytes copied, $BEFORE listings"
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
sleep 1   # the server stays away a moment: requests in flight fail, new ones queue
restart_server "$WORK/export"
log "server restarted (pid $SERVER_PID)"

wait $CP || fail "cp failed after the server restart: $(cat "$WORK/cp.err")"
more_listings() { [ "$(listings)" -gt $((BEFORE + 3)) ]; }
wait_for more_listings || fail "the lister did not continue after the restart"
touch "$WORK/stop"; wait $LISTER
[ ! -s "$WORK/lister.err" ] || fail "the lister saw errors: $(head -5 "$WORK/lister.err")"
[ "$(sha256sum < "$WORK/export/dst" | cut -d' ' -f1)" = "$SUM" ] || fail "copy checksum differs on the host"
[ "$(sha256sum < "$M/dst" | cut -d' ' -f1)" = "$SUM" ] || fail "copy checksum differs through the mount"
grep -q "reconnected to" "$WORK"/fuse-mnt.log || fail "qtfs-fuse did not log a reconnect: $(cat "$WORK"/fuse-mnt.log)"
grep "qtfs-fuse:" "$WORK"/fuse-mnt.log | sort | uniq -c | sed 's/^/    /' >&2
log "ok: $(grep -c "reconnected to" "$WORK"/fuse-mnt.log) reconnect round(s), $(listings) listings without error, checksum $SUM"
rm -f "$WORK/export/src" "$WORK/export/dst"
server_alive
