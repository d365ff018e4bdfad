#!/usr/bin/env bash
# Load: NMOUNTS qtfs-fuse mounts with CONNS connections each against one qtfs-server;
# WORKERS processes (spread over the mounts) each run OPS mixed file operations with
# every read and every final file checked by checksum (load_worker.py). The export is a
# tmpfs and some files are written with one write of 160-512 KiB, so the load also runs
# through the client's write-behind (writes >= 64 KiB) and the server's spliced READs
# (tmpfs files, READs > 128 KiB). Odd mounts seal their frames (crypt=aead, the default),
# even ones use crypt=none (the server is --crypt optional): only plaintext answers splice.
# Reports errors, server fds before/after (leaks), connections, peak RSS of the server.
# Exit 0 only if there was no error, no fd leak and the server is alive.
#   Tests/Integration/t84_load.sh   the small run of the test command: 2 mounts x conns=4,
#                                   16 workers x 1,000 operations
#   scripts/load.sh                 the full run, 4 x 16 = 64 connections x 10,000 operations
#                                   (figures in docs/reliability.md); it calls this script
NMOUNTS=${NMOUNTS:-2}; CONNS=${CONNS:-4}; WORKERS=${WORKERS:-16}; OPS=${OPS:-1000}
source "$(dirname "$0")/lib.sh"       # (its MOUNTS is the list of mount points)
source "$(dirname "$0")/faultlib.sh"

mount_tmpfs "$WORK/export"
SERVER_ARGS="--crypt optional" start_server "$WORK/export"
FDS_BEFORE=$(settled_fd_count)
for m in $(seq 1 "$NMOUNTS"); do
    crypt=""; [ $((m % 2)) = 0 ] && crypt=",crypt=none"
    mount_fg "$WORK/export" "$WORK/m$m" "conns=$CONNS$crypt"
done
ESTABLISHED=$(ss -Htn state established "( sport = :$PORT )" | wc -l)
log "$NMOUNTS mounts x conns=$CONNS: $ESTABLISHED connections at the server; $WORKERS workers x $OPS ops"

PEAK_FILE=$WORK/rss.max; echo 0 > "$PEAK_FILE"
( while kill -0 "$SERVER_PID" 2>/dev/null; do
      rss=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
      [ "${rss:-0}" -gt "$(cat "$PEAK_FILE")" ] && echo "$rss" > "$PEAK_FILE"
      sleep 0.5
  done ) &
SAMPLER=$!

START=$(date +%s.%N)
pids=()
for w in $(seq 1 "$WORKERS"); do
    m=$(( (w - 1) % NMOUNTS + 1 ))
    python3 "$REPO/Tests/Integration/load_worker.py" "$WORK/m$m/w$w" "$WORK/export/w$w" "$OPS" "$w" > "$WORK/w$w.json" 2>&1 &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
SECS=$(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')
FDS_LOADED=$(fd_count "$SERVER_PID")
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null || true

python3 - "$WORK" "$WORKERS" "$OPS" <<'PY' > "$WORK/summary" || true
import json, sys
work, workers, ops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
total, errors, bad = 0, [], 0
for w in range(1, workers + 1):
    try:
        r = json.loads(open(f"{work}/w{w}.json").read().strip().splitlines()[-1])
    except Exception as e:
        errors.append(f"worker {w}: no result ({e}): {open(f'{work}/w{w}.json').read()[-300:]}"); bad += 1; continue
    total += r["ops"]
    if r["ops"] != ops: errors.append(f"worker {w}: {r['ops']} of {ops} ops")
    errors += [f"worker {w}: {e}" for e in r["errors"]]
print(f"ops={total} errors={len(errors)}")
for e in errors[:20]: print(e)
PY
for m in $(seq 1 "$NMOUNTS"); do fusermount3 -u "$WORK/m$m" || umount -l "$WORK/m$m"; done
back() { [ "$(fd_count "$SERVER_PID")" -le "$FDS_BEFORE" ]; }
wait_for back || true
FDS_AFTER=$(fd_count "$SERVER_PID")

read -r OPSLINE < "$WORK/summary"
log "result: $OPSLINE in ${SECS}s; server fds: $FDS_BEFORE before, $FDS_LOADED loaded, $FDS_AFTER after unmount;" \
    "server RSS: peak $(( $(cat "$PEAK_FILE") / 1024 )) MiB sampled, VmHWM $((HWM / 1024)) MiB"
tail -n +2 "$WORK/summary" >&2
server_alive
[ "$OPSLINE" = "ops=$((WORKERS * OPS)) errors=0" ] || fail "load run had errors"
[ "$FDS_AFTER" -le "$FDS_BEFORE" ] || fail "server fd leak: $FDS_BEFORE before, $FDS_AFTER after the clients left"
[ "$ESTABLISHED" -eq $((NMOUNTS * CONNS)) ] || fail "expected $((NMOUNTS * CONNS)) connections, the server had $ESTABLISHED"
if [ "$NMOUNTS" -ge 2 ]; then   # both kinds of connection carried the load
    grep -q -E 'crypt=(aes|chacha)[^ ]* .*client authenticated' "$WORK/server.log" || fail "no sealed connection in the server's log"
    grep -q 'crypt=none .*client authenticated' "$WORK/server.log" || fail "no plaintext connection in the server's log"
fi
log "ok"
