#!/usr/bin/env bash
# qtinfo while a mount's server is away: every answer comes at once (each qtinfo runs
# under `timeout 10`, and a timeout fails the test), and each connection shows its true
# state. Server stopped (kill -STOP): the mount's connections stay active with the blocked
# request in flight; server killed: reconnecting; a listener that never answers HELLO:
# connecting; server back on its port: active again, the blocked request finishes and
# traffic flows. The server's own report shows a connection that has not said HELLO as
# connecting.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/faultlib.sh"
# A server left stopped would never act on the cleanup's SIGTERM.
trap '[ -n "$SERVER_PID" ] && kill -CONT "$SERVER_PID" 2>/dev/null; fault_cleanup' EXIT
export QTFS_CONTROL_DIR=$WORK/ctl      # private: other qtfs processes on this machine stay out
Q="$BIN/qtinfo"
mkdir -p "$WORK/export"
echo "before the outage" > "$WORK/export/f"
start_server "$WORK/export"
# No caching: every stat goes to the server.
mount_fg "$WORK/export" "$WORK/mnt" entry_timeout=0,attr_timeout=0,noprefetch
M=$WORK/mnt
FUSE=fuse-${FUSE_PIDS[0]}
wait_for test -S "$QTFS_CONTROL_DIR/$FUSE.sock" || fail "no control socket for the mount"

# q ARGS...: qtinfo that must answer within 10 s; its stdout goes to $WORK/q.json.
q() {
    local rc=0
    timeout 10 "$Q" "$@" > "$WORK/q.json" 2> "$WORK/q.err" || rc=$?
    [ "$rc" != 124 ] || fail "qtinfo $* did not answer within 10 s (hung)"
    return "$rc"
}
# on COMPONENT EXPR: EXPR (python, c = that component) on $WORK/q.json.
on() {
    python3 -c '
import json, sys
c = [x for x in json.load(open(sys.argv[1]))["components"] if x["name"] == sys.argv[2]]
if not c: sys.exit("no component " + sys.argv[2])
c = c[0]
conns = (c.get("status") or {}).get("connections", [])
states = [x["state"] for x in conns]
print(eval(sys.argv[3]))' "$WORK/q.json" "$1" "$2"
}
# mount_is EXPR: qtinfo --status on the mount; true when EXPR holds.
mount_is() { q --json --status -C "$M" && [ "$(on "$FUSE" "$1")" = True ]; }
# server_is EXPR: the same on the server (by name: a killed server leaves its socket behind).
server_is() { q --json --status -C "server-$SERVER_PID" && [ "$(on "server-$SERVER_PID" "$1")" = True ]; }
show() { on "$FUSE" '[(x["state"], x["requestsInFlight"]) for x in conns], c["status"]["requestsInFlight"]'; }

log "mounted: 4 connections active, nothing in flight, on both sides"
mount_is 'states == ["active"] * 4 and c["status"]["requestsInFlight"] == 0' || fail "mount: $(show)"
server_is 'states == ["active"] * 4' || fail "server: $(on "server-$SERVER_PID" states)"

log "the server shows a connection that has not said HELLO as connecting"
python3 - "$PORT" "$WORK/silent.ready" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").close()
time.sleep(60)
PY
SILENT=$!; BG_PIDS+=($!)
wait_for test -e "$WORK/silent.ready" || fail "could not connect to the server"
wait_for server_is 'states.count("connecting") == 1 and states.count("active") == 4' \
    || fail "server: $(on "server-$SERVER_PID" states)"
kill "$SILENT"; wait "$SILENT" 2>/dev/null || true
wait_for server_is 'states == ["active"] * 4' || fail "server after the silent client left: $(on "server-$SERVER_PID" states)"

log "server stopped (kill -STOP): a stat blocks; its request shows in flight on an active connection"
kill -STOP "$SERVER_PID"
# SIGSTOP lands asynchronously: a LOOKUP sent before every thread has stopped may still be
# answered, and a strict stat is that one round trip (docs/client.md, "Strict mounts").
all_stopped() { local t; for t in /proc/"$1"/task/*/status; do grep -q '^State:.*(stopped)' "$t" || return 1; done; }
wait_for all_stopped "$SERVER_PID" || fail "the server did not stop on SIGSTOP"
( set +e; stat -c %s "$M/f" > "$WORK/stat.out" 2>&1; echo $? > "$WORK/stat.rc" ) &
STATTER=$!; BG_PIDS+=($!)
in_flight_on_active='c["status"]["requestsInFlight"] >= 1 and any(x["state"] == "active" and x["requestsInFlight"] >= 1 for x in conns)'
wait_for mount_is "$in_flight_on_active" || fail "blocked stat not in flight: $(show)"
kill -0 "$STATTER" 2>/dev/null || fail "stat ended while the server was stopped: $(cat "$WORK/stat.out")"
log "mount while its server is stopped: $(show)"
# Every component, the stopped server included: the server's socket accepts (the kernel
# does that) but never answers; qtinfo gives up on it after its 5 s and still reports the mount.
rc=0; q --json --all || rc=$?
[ "$rc" = 1 ] || fail "qtinfo --all with a stopped server: exit $rc, expected 1"
on "server-$SERVER_PID" 'c["state"] == "unreachable" and "did not answer within 5 s" in c["error"]' | has -x True \
    || fail "stopped server not reported unreachable: $(on "server-$SERVER_PID" 'c.get("error")')"
on "$FUSE" 'c["state"] == "running" and len(c["stats"]) > 0' | has -x True || fail "mount missing from qtinfo --all"

log "server killed: the mount's connections are reconnecting, the stat still waits and is counted"
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
wait_for mount_is 'states == ["reconnecting"] * 4 and c["status"]["requestsInFlight"] >= 1' \
    || fail "mount after the kill: $(show)"
log "mount while its server is gone: $(show)"
kill -0 "$STATTER" 2>/dev/null || fail "stat ended while the server was gone (hard mount): $(cat "$WORK/stat.out")"
q --status -C "$M" || fail "qtinfo table while reconnecting: $(cat "$WORK/q.err")"
grep -qE '^ +1 +127\.0\.0\.1:[0-9]+ +reconnecting +(aes-256-gcm|chacha20-poly1305) +0 ' "$WORK/q.json" || fail "table: $(cat "$WORK/q.json")"

log "a listener that takes the connection but never answers HELLO: connecting"
python3 - "$PORT" "$WORK/listening" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
open(sys.argv[2], "w").close()
time.sleep(120)
PY
LISTENER=$!; BG_PIDS+=($!)
wait_for test -e "$WORK/listening" || fail "could not listen on $PORT"
wait_for mount_is '"connecting" in states and set(states) <= {"connecting", "reconnecting"}' \
    || fail "mount with a silent listener: $(show)"
log "mount against a silent listener: $(show)"
kill "$LISTENER"; wait "$LISTENER" 2>/dev/null || true

log "server back on its port: active again, the stat finishes, traffic flows"
restart_server "$WORK/export"
wait "$STATTER" || true
[ "$(cat "$WORK/stat.rc")" = 0 ] && [ "$(cat "$WORK/stat.out")" = 18 ] || fail "blocked stat after the restart: $(cat "$WORK/stat.out")"
wait_for mount_is 'states == ["active"] * 4 and c["status"]["requestsInFlight"] == 0' || fail "mount after the restart: $(show)"
for i in $(seq 1 8); do echo "after $i" > "$M/g$i"; done
for i in $(seq 1 8); do [ "$(cat "$M/g$i")" = "after $i" ] && [ "$(cat "$WORK/export/g$i")" = "after $i" ] || fail "traffic after the restart (g$i)"; done
mount_is 'states == ["active"] * 4 and all(x["requestsInFlight"] == 0 for x in conns)' || fail "mount after traffic: $(show)"
final=$(show)
wait_for server_is 'states == ["active"] * 4' || fail "restarted server: $(on "server-$SERVER_PID" states)"
log "pass: mount after the restart: $final"
server_alive
