#!/usr/bin/env bash
# qtinfo against a real server and a real FUSE mount: known traffic shows up exactly in
# `qtinfo --json` on both sides (counts, errnos, histograms), the log level changes at
# run time and shows in the logs, the Prometheus endpoint carries the same counters, a
# misbehaving control client does not disturb the file service, and bad input gets a
# one-line error with a non-zero exit.
source "$(dirname "$0")/lib.sh"
export QTFS_CONTROL_DIR=$WORK/ctl      # private: other qtfs processes on this machine stay out
Q="$BIN/qtinfo"
MPORT=$(free_port)
SERVER_ARGS="--metrics-listen 127.0.0.1:$MPORT"
mkdir -p "$WORK/export/full" "$WORK/mnt"
touch "$WORK/export/full/keep"
start_server "$WORK/export"
# Foreground, so that the client's log is kept.
"$BIN/qtfs-fuse" -f -o "server=127.0.0.1:$PORT,key=$KEY" "$WORK/export" "$WORK/mnt" >"$WORK/fuse.log" 2>&1 &
FUSE_PID=$!
MOUNTS+=("$WORK/mnt")
for i in $(seq 1 100); do mountpoint -q "$WORK/mnt" && break; sleep 0.1; done
mountpoint -q "$WORK/mnt" || fail "qtfs-fuse did not mount: $(cat "$WORK/fuse.log")"
M=$WORK/mnt
SRV=server-$SERVER_PID
FUSE=fuse-$FUSE_PID
for i in $(seq 1 50); do [ -S "$QTFS_CONTROL_DIR/$FUSE.sock" ] && break; sleep 0.1; done

# jq-like checks with python: field EXPR evaluated on the JSON of one component.
field() {  # field COMPONENT EXPR < json
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
c = [x for x in doc["components"] if x["name"] == sys.argv[1]]
if not c: sys.exit("no component " + sys.argv[1])
c = c[0]
ops = {o["op"]: o for o in c.get("stats") or []}
print(eval(sys.argv[2]))' "$@"
}

log "qtinfo alone lists the server and the mount as running"
"$Q" > "$WORK/list.txt" || fail "qtinfo exited non-zero: $(cat "$WORK/list.txt")"
grep -qE "^$SRV +server +running +$SERVER_PID " "$WORK/list.txt" || fail "server row: $(cat "$WORK/list.txt")"
grep -qE "^$FUSE +fuse +running .* $M <- 127.0.0.1:$PORT:$WORK/export\$" "$WORK/list.txt" || fail "mount row: $(cat "$WORK/list.txt")"
[ "$(stat -c %a "$QTFS_CONTROL_DIR/$SRV.sock")" = 600 ] || fail "control socket mode is not 0600"

log "known traffic: 20 files of 4 KiB, 5 refused rmdirs, one read of each file"
"$Q" -c > /dev/null || fail "qtinfo -c"
for i in $(seq 1 20); do dd if=/dev/zero of="$M/f$i" bs=4096 count=1 status=none; done
for i in $(seq 1 5); do rmdir "$M/full" 2>/dev/null && fail "rmdir of a non-empty directory succeeded"; done
for i in $(seq 1 20); do cat "$M/f$i" > /dev/null; done
"$Q" --all --json > "$WORK/all.json" || fail "qtinfo --all --json"

check() {  # check COMPONENT EXPR EXPECTED
    local got
    got=$(field "$1" "$2" < "$WORK/all.json") || fail "cannot evaluate $2 on $1"
    [ "$got" = "$3" ] || fail "$1: $2 is $got, expected $3"
}
for c in "$SRV" "$FUSE"; do
    check "$c" 'ops["write"]["count"]' 20
    check "$c" 'ops["write"]["errors"]' 0
    check "$c" 'ops["create"]["count"]' 20
    check "$c" 'ops["rmdir"]["count"]' 5
    check "$c" 'ops["rmdir"]["errnos"]' "{'ENOTEMPTY': 5}"
    check "$c" 'all(sum(o["histogram"]) == o["count"] for o in ops.values())' True
    check "$c" 'all(0 < o["p50Nanos"] <= o["p99Nanos"] <= o["maxNanos"] for o in ops.values())' True
    check "$c" 'all(o["totalNanos"] >= o["maxNanos"] for o in ops.values())' True
    check "$c" 'c["status"]["requestsInFlight"]' 0
    check "$c" '[x["state"] for x in c["status"]["connections"]]' "['active', 'active', 'active', 'active']"
done
# Reads the page cache does not answer: every one the mount saw went to the server.
fuse_reads=$(field "$FUSE" 'ops.get("read", {}).get("count", 0)' < "$WORK/all.json")
check "$SRV" 'ops.get("read", {}).get("count", 0)' "$fuse_reads"
check "$SRV" 'c["status"]["bytesIn"] >= 20 * 4096' True
check "$FUSE" 'sum(x["bytesOut"] for x in c["status"]["connections"]) >= 20 * 4096' True
check "$SRV" 'c["status"]["exports"]' "['$WORK/export']"
check "$FUSE" 'c["status"]["mountpoint"]' "$M"

log "the table shows the same counts"
"$Q" --stats -C "$M" > "$WORK/stats.txt" || fail "qtinfo --stats -C mountpoint"
grep -qE '^  rmdir +5 +5 .* ENOTEMPTY:5$' "$WORK/stats.txt" || fail "rmdir row: $(cat "$WORK/stats.txt")"

log "clear empties the statistics"
"$Q" -c -C server | has -x "$SRV: statistics cleared" || fail "qtinfo -c -C server"
"$Q" --stats --json -C "$SRV" > "$WORK/cleared.json"
check_cleared=$(field "$SRV" 'len(ops)' < "$WORK/cleared.json")
[ "$check_cleared" = 0 ] || fail "statistics not empty after -c: $check_cleared ops"

log "Prometheus endpoint carries the same counters"
python3 - "$MPORT" > "$WORK/metrics.txt" <<'PY' || fail "GET /metrics failed"
import sys, urllib.request
print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=10).read().decode())
PY
grep -qx 'qtfs_server_requests_total{op="write"} 20' "$WORK/metrics.txt" || fail "write counter: $(grep write "$WORK/metrics.txt")"
grep -qx 'qtfs_server_request_errors_total{op="rmdir",errno="ENOTEMPTY"} 5' "$WORK/metrics.txt" \
    || fail "rmdir errors: $(grep rmdir "$WORK/metrics.txt")"
grep -qx 'qtfs_server_request_duration_seconds_count{op="write"} 20' "$WORK/metrics.txt" || fail "write histogram count"
grep -qxE 'qtfs_server_connections 4(\.0)?' "$WORK/metrics.txt" || fail "connections gauge: $(grep connections "$WORK/metrics.txt")"

log "log level at run time: server DEBUG shows the next handshake, client DEBUG shows failures"
grep -q ' debug ' "$WORK/server.log" && fail "server logged debug lines before the change"
"$Q" -l debug -C server | has -x "$SRV: log level DEBUG" || fail "qtinfo -l debug -C server"
"$Q" ping -s "127.0.0.1:$PORT" -c 1 > /dev/null || fail "qtinfo ping"
grep -qE ' debug .*client=qtinfo.* hello' "$WORK/server.log" || fail "no debug line after -l DEBUG: $(tail -3 "$WORK/server.log")"
grep -q 'request failed' "$WORK/fuse.log" && fail "client logged failures at WARN"
"$Q" -l DEBUG -C "$FUSE" > /dev/null || fail "qtinfo -l DEBUG on the mount"
rmdir "$M/full" 2>/dev/null || true
grep -qE 'fuse.op=rmdir .*req.errno=ENOTEMPTY.* request failed' "$WORK/fuse.log" || fail "client debug line missing: $(tail -3 "$WORK/fuse.log")"
"$Q" -l NONE -C server > /dev/null || fail "qtinfo -l NONE"
"$Q" --status --json -C "$SRV" | field "$SRV" 'c["status"]["logLevel"]' | has -x NONE || fail "level not NONE"
n=$(wc -l < "$WORK/server.log")
"$Q" ping -s "127.0.0.1:$PORT" -c 1 > /dev/null
[ "$(wc -l < "$WORK/server.log")" = "$n" ] || fail "server logged at level NONE"
"$Q" -l INFO > /dev/null || fail "qtinfo -l INFO everywhere"

log "answers that never reach the server are counted too: errors the mount gives itself, fifo answers from the channel thread"
mkfifo "$WORK/export/fifo"
mkdir -p "$WORK/procmnt"
"$BIN/qtfs-fuse" -o "server=127.0.0.1:$PORT,key=$KEY,proc" "$WORK/export" "$WORK/procmnt" >"$WORK/fuse-proc.log" 2>&1
MOUNTS+=("$WORK/procmnt")
"$Q" -c -C "$FUSE" > /dev/null || fail "qtinfo -c on the mount"
python3 - "$M" "$WORK/procmnt" <<'PY' || fail "fifo and xattr calls through the mounts"
import errno, os, sys
m, procmnt = sys.argv[1:]
try:
    os.open(m + "/fifo", os.O_WRONLY | os.O_NONBLOCK); sys.exit("fifo writer opened without a reader")
except OSError as e:
    assert e.errno == errno.ENXIO, e
r = os.open(m + "/fifo", os.O_RDONLY | os.O_NONBLOCK)
w = os.open(m + "/fifo", os.O_WRONLY)
assert os.write(w, b"x") == 1 and os.read(r, 1) == b"x"
os.close(w); os.close(r)
try:   # a synthetic link of -o proc has no xattrs: ENODATA from the mount itself
    os.getxattr(procmnt + "/mounts", "trusted.qtfs", follow_symlinks=False); sys.exit("xattr on a synthetic link")
except OSError as e:
    assert e.errno == errno.ENODATA, e
PY
"$Q" --all --json -C "$FUSE" > "$WORK/all.json" || fail "qtinfo --all --json on the mount"
check "$FUSE" 'ops["open"]["count"]' 3
check "$FUSE" 'ops["open"]["errnos"]' "{'ENXIO': 1}"
check "$FUSE" 'ops["write"]["count"]' 1
check "$FUSE" 'ops["read"]["count"]' 1
check "$FUSE" 'c["status"]["requestsInFlight"]' 0
"$Q" --stats --json -C "$WORK/procmnt" > "$WORK/proc.json" || fail "qtinfo --stats on the proc mount"
python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
ops = {o["op"]: o for o in c["stats"]}
assert ops["getxattr"]["errnos"] == {"ENODATA": 1}, ops.get("getxattr")' "$WORK/proc.json" || fail "ENODATA of the proc mount not counted"
fusermount3 -u "$WORK/procmnt"

log "a misbehaving control client does not disturb the file service"
python3 - "$QTFS_CONTROL_DIR/$SRV.sock" <<'PY' &
import socket, sys, time
silent = socket.socket(socket.AF_UNIX); silent.connect(sys.argv[1])     # says nothing
junk = socket.socket(socket.AF_UNIX); junk.connect(sys.argv[1])
try:
    junk.sendall(b"x" * (8 << 20))                                       # oversized, no newline
except OSError:
    pass
time.sleep(6)
PY
HOSTILE=$!
dd if=/dev/zero of="$M/during" bs=64k count=16 status=none || fail "write during hostile control clients"
cmp -s <(head -c 1048576 /dev/zero) "$M/during" || fail "data written during hostile control clients differs"
"$Q" --status -C server > /dev/null || fail "qtinfo while a control client misbehaves"
kill "$HOSTILE" 2>/dev/null; wait "$HOSTILE" 2>/dev/null || true
server_alive

log "bad input: one line, what to do, non-zero exit"
expect_error() {  # expect_error PATTERN qtinfo-args...
    local pat=$1; shift
    if "$Q" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt"; then fail "qtinfo $* succeeded"; fi
    [ "$(wc -l < "$WORK/err.txt")" = 1 ] || fail "qtinfo $*: not one line: $(cat "$WORK/err.txt")"
    grep -q -- "$pat" "$WORK/err.txt" || fail "qtinfo $*: $(cat "$WORK/err.txt")"
}
expect_error "unknown log level 'DEBG'; use NONE, ERROR, WARN, INFO, DEBUG" -l DEBG
expect_error "unknown component 'nosuch'" -C nosuch --status
expect_error "unknown whitelist type 'opne'" -w opne -x /tmp
expect_error "this qtfs-server runs without a whitelist; start it with --whitelist FILE" -z
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$QTFS_CONTROL_DIR/fuse-999999999.sock"
expect_error "stale control socket .*fuse-999999999.sock: process 999999999 is gone (crashed?); remove it with: rm " -C fuse-999999999
"$Q" > "$WORK/list.txt" 2> "$WORK/err.txt" && fail "qtinfo alone exited 0 with a stale socket"
grep -qE '^fuse-999999999 +fuse +stale ' "$WORK/list.txt" || fail "stale row missing: $(cat "$WORK/list.txt")"
grep -qE "^$SRV +server +running" "$WORK/list.txt" || fail "live server missing from the list next to a stale socket"
log "a component that starts removes the sockets of processes that are gone"
touch "$QTFS_CONTROL_DIR/server-$SERVER_PID.sock.keep"   # not a socket name: left alone
mount_qtfs "$WORK/export" "$WORK/mnt2"
for i in $(seq 1 50); do [ -e "$QTFS_CONTROL_DIR/fuse-999999999.sock" ] || break; sleep 0.1; done
[ -e "$QTFS_CONTROL_DIR/fuse-999999999.sock" ] && fail "the stale socket of a gone process survived a new mount"
[ -S "$QTFS_CONTROL_DIR/$SRV.sock" ] || fail "the live server's socket was removed"
[ -e "$QTFS_CONTROL_DIR/server-$SERVER_PID.sock.keep" ] || fail "a file that is not a control socket was removed"
rm -f "$QTFS_CONTROL_DIR/server-$SERVER_PID.sock.keep"
if id nobody >/dev/null 2>&1; then
    chmod 755 "$WORK" "$QTFS_CONTROL_DIR"
    su nobody -s /bin/sh -c "'$Q' -C '$QTFS_CONTROL_DIR/$SRV.sock' --status" > /dev/null 2> "$WORK/err.txt" && fail "nobody used the control socket"
    grep -q "permission denied on .*run qtinfo as root" "$WORK/err.txt" || fail "nobody: $(cat "$WORK/err.txt")"
fi

log "the server and the mount still work, their sockets go away when they stop"
echo ok > "$M/last" && [ "$(cat "$WORK/export/last")" = ok ] || fail "file service after all of this"
fusermount3 -u "$M"
wait "$FUSE_PID" 2>/dev/null || true
[ ! -e "$QTFS_CONTROL_DIR/$FUSE.sock" ] || fail "mount's control socket left behind"
log "pass"
